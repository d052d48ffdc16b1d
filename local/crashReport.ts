import { inspect } from 'node:util';

/**
 * Imported first by `npm start` and the bench's host child: an unhandled rejection or exception still
 * ends the process (as Node would), but first writes what it was (class chain, fields, stack) to
 * stderr. Node's own message names only the class of a non-Error reason (e.g. "#<c>").
 */
function describe(reason: unknown): string {
  const chain: string[] = [];
  if (reason !== null && typeof reason === 'object')
    for (let p: unknown = Object.getPrototypeOf(reason); p !== null && chain.length < 6; p = Object.getPrototypeOf(p))
      chain.push((p as { constructor?: { name?: string } }).constructor?.name ?? '?');
  const lines = [
    `classes: ${chain.join(' < ') || typeof reason}`,
    // An Error's inspection carries its stack; anything else gets where it surfaced.
    inspect(reason, { depth: 4, breakLength: 160 }).slice(0, 4_000),
  ];
  if (!(reason instanceof Error)) lines.push(`noticed at: ${String(new Error('unhandled').stack)}`);
  return lines.join('\n');
}

const label = (): string => `${process.argv[1] ?? 'node'} (pid ${String(process.pid)})`;

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`${label()}: unhandled rejection\n${describe(reason)}\n`);
  process.exit(1);
});
process.on('uncaughtException', (error) => {
  process.stderr.write(`${label()}: uncaught exception\n${describe(error)}\n`);
  process.exit(1);
});
