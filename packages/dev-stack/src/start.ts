/**
 * `npm start`: Azurite + the Service Bus emulator + the local Functions host running the built app
 * (dist/). Flags: --port <http port, default 7071> --emulator-port <port, default free>
 * --data-dir <dir> (keep Azurite's data, the emulator's messages and the durable backend's orchestrations
 * and entities on disk; default memory) --quiet (no line per call: warnings, errors and progress only)
 * --log-level <trace|debug|information|warning|error|critical|none> (minimum level of function lines)
 * --trace <console|file:<path>|otlp[:<url>]> (export spans: the app's TRACE_EXPORT setting).
 * Ctrl-C / SIGTERM drains in-flight calls and stops every child; Azurite also stops if this process is
 * killed -9 (azurite.ts), and this process stops if its parent (npm) dies.
 */
import './crashReport';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AzuriteExit } from './azurite';
import type { AzuriteEvent } from './azuriteRecovery';
import { deadLetterDepth, parseLogLevel } from './standIns';
import { progressReporter } from './progress';
import { startConvoy, type Convoy } from './stack';

function port(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535)
    throw new Error(`${flag} must be a port number (0-65535), got "${value}".`);
  return parsed;
}

function printEndpoints(convoy: Convoy): void {
  const lines = [
    '',
    'convoy local stack',
    `  Functions host     ${convoy.url}`,
    ...convoy.host.functions.map(
      (fn) =>
        `    ${fn.name.padEnd(24)} ${Object.values(fn.bindings).find((b) => /trigger$/i.test(b.type))?.type ?? ''}`,
    ),
    `  Service Bus        ${convoy.emulator.connectionString}`,
    `  Azurite (tables)   ${convoy.azurite.tableEndpoint}  (pid ${convoy.azurite.pid})`,
    `  Azurite            ${convoy.azurite.connectionString.replace(/AccountKey=[^;]+/, 'AccountKey=<dev key>')}`,
    '',
  ];
  console.log(lines.join('\n'));
}

/** The producer route the README's curl posts to: the first POST-capable HTTP function. */
function readyTarget(convoy: Convoy): string {
  for (const fn of convoy.host.functions) {
    const trigger = Object.values(fn.bindings).find((b) => b.type.toLowerCase() === 'httptrigger');
    if (trigger === undefined) continue;
    const methods = Array.isArray(trigger.methods) ? trigger.methods.map(String) : [];
    if (methods.length > 0 && !methods.some((m) => m.toUpperCase() === 'POST')) continue;
    const route = typeof trigger.route === 'string' ? trigger.route : fn.name;
    return `POST ${convoy.url}/api/${route}`;
  }
  return convoy.url;
}

// Read at load, not once the stack is up: a parent killed during start-up (or right at "ready", before
// the next line ran on a busy machine) would otherwise be taken for the parent.
const parentAtStart = process.ppid;

/** The command line, checked: bad flags end start-up with a message naming the flag. */
function parseFlags() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'emulator-port': { type: 'string' },
      'app-root': { type: 'string' },
      'data-dir': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      'log-level': { type: 'string' },
      trace: { type: 'string' },
    },
  });
  if (values.quiet && values['log-level'] !== undefined) throw new Error('Use --quiet or --log-level, not both.');
  const logLevel = values.quiet ? 'warning' : parseLogLevel(values['log-level'] ?? 'information', '--log-level');
  const dataDir = values['data-dir'] === undefined ? undefined : resolve(values['data-dir']);
  if (dataDir === '') throw new Error('--data-dir needs a directory.');
  return { ...values, logLevel, dataDir };
}

async function main(): Promise<void> {
  const flags = parseFlags();
  const { dataDir } = flags;
  console.log(`starting Azurite, the Service Bus emulator and the Functions host (pid ${process.pid})...`);
  // Bound once convoy is up (Azurite cannot die unnoticed before: startConvoy would fail).
  let stopForAzurite = (code: number): void => {
    process.exit(code);
  };
  const convoy = await startConvoy({
    onAzurite: (event) => {
      reportAzurite(event, dataDir, (code) => {
        stopForAzurite(code);
      });
    },
    port: port(flags.port, '--port', 7071),
    emulatorPort: port(flags['emulator-port'], '--emulator-port', 0),
    ...(flags['app-root'] === undefined ? {} : { appRoot: flags['app-root'] }),
    ...(dataDir === undefined ? {} : { dataDir }),
    logLevel: flags.logLevel,
    ...(flags.trace === undefined ? {} : { settings: { TRACE_EXPORT: flags.trace } }),
  });
  announce(convoy, flags.trace, dataDir);
  const report = progressReporter((line) => {
    console.log(line);
  });
  const progress = setInterval(() => {
    report(convoy.host.stats(), deadLetterDepth(convoy.emulator.stats()));
  }, 2_000);
  stopForAzurite = stopOnSignals(convoy, progress);
}

function announce(convoy: Convoy, trace: string | undefined, dataDir: string | undefined): void {
  if (trace !== undefined) console.log(`traces: ${trace} (TRACE_EXPORT; docs/tracing.md)`);
  printEndpoints(convoy);
  console.log(
    dataDir === undefined
      ? 'data: in memory (a restart starts empty; use --data-dir <dir> to keep it)'
      : `data: ${dataDir} (Azurite data, Service Bus messages, durable orchestrations and entities survive a restart)`,
  );
  console.log(`convoy is ready: ${readyTarget(convoy)}`);
  console.log(`console: ${convoy.url}/api/console (open it in a browser)`);
}

/**
 * SIGINT, SIGTERM and the death of our parent drain and stop the stack (twice: exit at once).
 * Returns how to stop when Azurite is lost for good: with the given exit code, after at most 5 s.
 */
function stopOnSignals(convoy: Convoy, progress: NodeJS.Timeout): (code: number) => void {
  let stoppingSince: number | undefined;
  const shutdown = (signal: string): void => {
    // A terminal's Ctrl-C reaches this process twice (directly and relayed by the tsx/npm parents).
    if (stoppingSince !== undefined && Date.now() - stoppingSince < 1_000) return;
    if (stoppingSince !== undefined) {
      console.log(`${signal} again: exiting without draining`);
      void convoy.azurite.close();
      void convoy.emulator.close();
      process.exit(1);
    }
    stoppingSince = Date.now();
    clearInterval(progress);
    console.log(`${signal}: draining in-flight calls and stopping (press Ctrl-C again to force)`);
    convoy.stop().then(
      () => {
        console.log('stopped: Azurite, the emulator and the host are down');
        process.exit(0);
      },
      (error: unknown) => {
        console.error('stopping failed:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => {
    shutdown('SIGINT');
  });
  process.on('SIGTERM', () => {
    shutdown('SIGTERM');
  });
  stopWhenOrphaned(shutdown);
  return (code) => {
    clearInterval(progress);
    stoppingSince = Date.now();
    const forced = setTimeout(() => process.exit(code), 5_000);
    forced.unref();
    void convoy.stop().finally(() => process.exit(code));
  };
}

/** npm (or whatever started us) died, even by SIGKILL: we were re-parented, so stop as on SIGTERM. */
function stopWhenOrphaned(shutdown: (reason: string) => void): void {
  const parent = parentAtStart;
  const orphaned = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(orphaned);
    shutdown(`parent process ${parent} exited`);
  }, 500);
  orphaned.unref();
}

function describeExit(exit: AzuriteExit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${String(exit.code)}`;
}

/**
 * A dead Azurite is reported at once. With --data-dir the stack gives back to the queue what Azurite
 * had not saved and restarts it (azuriteRecovery.ts); in memory its data is gone with it, so convoy
 * stops (exit 1) rather than run on against empty tables.
 */
function reportAzurite(event: AzuriteEvent, dataDir: string | undefined, stop: (code: number) => void): void {
  if (event.kind === 'back') {
    console.error(`Azurite is back (pid ${String(event.pid)}).`);
    return;
  }
  if (event.kind === 'gaveUp') {
    console.error(`${event.reason}; stopping convoy (exit 1). Its data stays in ${dataDir ?? '(memory)'}.`);
    stop(1);
    return;
  }
  const what = `Azurite (pid ${String(event.pid)}) exited unexpectedly (${describeExit(event.exit)})`;
  if (dataDir === undefined) {
    console.error(
      `${what}. It kept its data in memory, so the order records stored there are gone; stopping convoy (exit 1). Run npm start again; add --data-dir <dir> to keep data across such crashes.`,
    );
    stop(1);
    return;
  }
  if (!event.restarting) return;
  const saved =
    event.lastSave === undefined
      ? 'no save reported'
      : `its last save of the tables was taken ${String(Date.now() - event.lastSave.snapshotAt)} ms ago`;
  const back = event.gaveBack;
  console.error(
    `${what}; ${saved}. Gave back to the queue the ${String(back?.messages ?? 0)} message(s) completed since then and the ${String(back?.inFlight ?? 0)} in flight (their events are applied again; what Azurite kept counts as duplicate); restarting it on the same ports with its data in ${dataDir}.`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
