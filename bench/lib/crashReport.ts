import { inspect } from 'node:util';

/**
 * Imported first by the host child: an unhandled rejection or exception still ends the process (as
 * Node would), but first writes what it was — class chain, own keys, stack — to stderr, which the
 * parent shows. Node's own message names only the class (e.g. "#<c>" for a bundled library's error).
 */
function describe(reason: unknown): string {
  const chain: string[] = [];
  for (let p: unknown = reason; p !== null && typeof p === 'object'; p = Object.getPrototypeOf(p)) {
    chain.push((p as { constructor?: { name?: string } }).constructor?.name ?? '?');
    if (chain.length > 6) break;
  }
  const stack = reason instanceof Error ? reason.stack : (reason as { stack?: unknown } | undefined)?.stack;
  return [
    `classes: ${chain.join(' < ') || typeof reason}`,
    inspect(reason, { depth: 4, showHidden: false, breakLength: 160 }).slice(0, 4_000),
    `stack: ${typeof stack === 'string' ? stack : String(new Error('(where the rejection was noticed)').stack)}`,
  ].join('\n');
}

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`host child: unhandled rejection\n${describe(reason)}\n`);
  process.exit(1);
});
process.on('uncaughtException', (error) => {
  process.stderr.write(`host child: uncaught exception\n${describe(error)}\n`);
  process.exit(1);
});
