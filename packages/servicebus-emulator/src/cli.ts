#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startEmulator, type RunningEmulator } from './index';
import { formatStats } from './statsView';

/**
 * `servicebus-emulator --port 5672 [--config Config.json] [--data-dir <dir>] [--verbose]` (in this
 * repository: `npm run emulator -- ...`). With --data-dir, messages survive a restart (even kill -9).
 * Prints the connection string on one line, then a readiness line; Ctrl-C / SIGTERM stop it cleanly.
 */
const usage =
  'Usage: servicebus-emulator [--port 5672] [--host 127.0.0.1] [--config Config.json] [--stats <seconds>] [--data-dir <dir>] [--verbose]\n';

function readArguments() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '5672' },
      host: { type: 'string', default: '127.0.0.1' },
      config: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      stats: { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return { ...values, port: 0, statsSeconds: undefined };
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0..65535, got "${values.port}".`);
  const statsSeconds = values.stats === undefined ? undefined : Number(values.stats);
  if (statsSeconds !== undefined && !(statsSeconds > 0))
    throw new Error(`--stats must be a number of seconds, got "${values.stats ?? ''}".`);
  return { ...values, port, statsSeconds };
}

async function main(): Promise<void> {
  const args = readArguments();
  if (args.help) {
    process.stdout.write(usage);
    return;
  }
  const dataDir = args['data-dir'];
  const emulator = await startEmulator({
    port: args.port,
    host: args.host,
    ...(args.config === undefined ? {} : { config: args.config }),
    ...(dataDir === undefined ? {} : { dataDir }),
    log: args.verbose ? (line) => process.stderr.write(`[emulator] ${line}\n`) : () => undefined,
  });
  const stats = emulator.stats();
  process.stdout.write(`${emulator.connectionString}\n`);
  process.stdout.write(
    `Service Bus emulator ready on ${args.host}:${emulator.port} (namespace ${stats.namespace}: ${stats.queues} queue(s), ${stats.topics} topic(s), ${stats.subscriptions} subscription(s))${dataDir === undefined ? '' : `, data in ${dataDir}`}.\n`,
  );
  const { statsSeconds } = args;
  if (statsSeconds !== undefined)
    setInterval(() => process.stdout.write(`${formatStats(emulator.stats())}\n`), statsSeconds * 1000).unref();
  stopOnSignals(emulator);
}

function stopOnSignals(emulator: RunningEmulator): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`Received ${signal}, stopping.\n`);
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`Error while stopping: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
