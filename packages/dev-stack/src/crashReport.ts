import { inspect } from 'node:util';

/**
 * Imported first by `npm start` and the bench's host child: an unhandled rejection or exception still
 * ends the process (as Node would), but first writes what it was (class chain, fields, stack) to
 * stderr. Node's own message names only the class of a non-Error reason (e.g. "#<c>"). One known
 * SDK leak, a bare AMQP error from a link close, is reported and survived (see below).
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

/** rhea's AMQP `error` composite (the error field of a detach, end or close frame), else undefined. */
function amqpError(reason: unknown): { condition: string; description: string } | undefined {
  if (reason === null || typeof reason !== 'object') return undefined;
  const type = (reason as { constructor?: { descriptor?: { symbolic?: unknown } } }).constructor;
  if (type?.descriptor?.symbolic !== 'amqp:error:list') return undefined;
  const { condition, description } = reason as { condition?: unknown; description?: unknown };
  return typeof condition === 'string'
    ? { condition, description: typeof description === 'string' ? description : '' }
    : undefined;
}

process.on('unhandledRejection', (reason) => {
  // @azure/service-bus 7.9 leaves a link close unhandled when the service detaches that link with an
  // error at the same moment (seen after a SIGSTOP outlived the session lock: session-lock-lost).
  // The receiver is gone either way and its messages are redelivered, so this one is reported, not fatal.
  const amqp = amqpError(reason);
  if (amqp !== undefined) {
    process.stderr.write(
      `${label()}: an AMQP error reached no handler (${amqp.condition}: ${amqp.description}); the Service Bus SDK did not handle a link close that met the service's detach. Carrying on: that link is closed and its messages will be delivered again.\n`,
    );
    return;
  }
  process.stderr.write(`${label()}: unhandled rejection\n${describe(reason)}\n`);
  process.exit(1);
});
process.on('uncaughtException', (error) => {
  process.stderr.write(`${label()}: uncaught exception\n${describe(error)}\n`);
  process.exit(1);
});
