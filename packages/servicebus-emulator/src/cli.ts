#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startEmulator } from './index';
import { formatStats } from './statsView';

/**
 * `npm run emulator -- --port 5672 [--config Config.json] [--data-dir <dir>] [--verbose]`
 * With --data-dir, messages survive a restart (even kill -9) of the emulator.
 * Prints the connection string on one line, then a readiness line; Ctrl-C / SIGTERM stop it cleanly.
 */
async function main(): Promise<void> {
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
  if (values.help) {
    process.stdout.write(
      'Usage: npm run emulator -- [--port 5672] [--host 127.0.0.1] [--config Config.json] [--stats <seconds>] [--data-dir <dir>] [--verbose]\n',
    );
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0..65535, got "${values.port}".`);
  const emulator = await startEmulator({
    port,
    host: values.host,
    ...(values.config === undefined ? {} : { config: values.config }),
    ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
    log: values.verbose ? (line) => process.stderr.write(`[emulator] ${line}\n`) : () => undefined,
  });
  const stats = emulator.stats();
  process.stdout.write(`${emulator.connectionString}\n`);
  process.stdout.write(
    `Service Bus emulator ready on ${values.host}:${emulator.port} (namespace ${stats.namespace}: ${stats.queues} queue(s), ${stats.topics} topic(s), ${stats.subscriptions} subscription(s))${values['data-dir'] === undefined ? '' : `, data in ${values['data-dir']}`}.\n`,
  );
  if (values.stats !== undefined) {
    const seconds = Number(values.stats);
    if (!(seconds > 0)) throw new Error(`--stats must be a number of seconds, got "${values.stats}".`);
    setInterval(() => process.stdout.write(`${formatStats(emulator.stats())}\n`), seconds * 1000).unref();
  }
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
