/**
 * `npm start`: Azurite + the Service Bus emulator + the local Functions host running the built app
 * (dist/). Flags: --port <http port, default 7071> --emulator-port <port, default free>
 * --data-dir <dir> (keep Azurite's data, the emulator's messages and the durable backend's orchestrations
 * and entities on disk; default memory).
 * Ctrl-C / SIGTERM drains in-flight calls and stops every child; Azurite also stops if this process is
 * killed -9 (azurite.ts), and this process stops if its parent (npm) dies.
 */
import './crashReport';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AzuriteExit } from './azurite';
import { deadLetterDepth } from './emulator/statsView';
import type { HostStats } from './host';
import { startConvoy, type Convoy } from './stack';

function port(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535)
    throw new Error(`${flag} must be a port number (0-65535), got "${value}".`);
  return parsed;
}

function progressLine(stats: HostStats, deadLettered: number): string {
  const sb = stats.serviceBus;
  const parts = [
    `sessions active ${sb.sessionsActive}`,
    `messages processed ${sb.messagesCompleted}${sb.messagesAbandoned > 0 ? ` (abandoned ${sb.messagesAbandoned})` : ''}`,
    `dead-lettered ${deadLettered}`,
  ];
  if (stats.durable !== undefined) {
    parts.push(`orders fulfilled ${stats.durable.orchestrations.Completed ?? 0}`);
    const failed = stats.durable.orchestrations.Failed ?? 0;
    if (failed > 0) parts.push(`orchestrations failed ${failed}`);
    if (stats.durable.pendingWork > 0) parts.push(`durable work pending ${stats.durable.pendingWork}`);
  }
  parts.push(
    `invocations ${stats.invocations.total} (${stats.invocations.failed} failed, ${stats.invocations.inFlight} in flight)`,
  );
  return `progress: ${parts.join(' · ')}`;
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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'emulator-port': { type: 'string' },
      'app-root': { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  const dataDir = values['data-dir'] === undefined ? undefined : resolve(values['data-dir']);
  if (dataDir === '') throw new Error('--data-dir needs a directory.');
  console.log(`starting Azurite, the Service Bus emulator and the Functions host (pid ${process.pid})...`);
  const convoy = await startConvoy({
    port: port(values.port, '--port', 7071),
    emulatorPort: port(values['emulator-port'], '--emulator-port', 0),
    ...(values['app-root'] === undefined ? {} : { appRoot: values['app-root'] }),
    ...(dataDir === undefined ? {} : { dataDir }),
  });
  printEndpoints(convoy);
  console.log(
    dataDir === undefined
      ? 'data: in memory (a restart starts empty; use --data-dir <dir> to keep it)'
      : `data: ${dataDir} (Azurite data, Service Bus messages, durable orchestrations and entities survive a restart)`,
  );
  console.log(`convoy is ready: ${readyTarget(convoy)}`);
  console.log(`console: ${convoy.url}/api/console (open it in a browser)`);

  let last = '';
  const progress = setInterval(() => {
    const stats = convoy.host.stats();
    const line = progressLine(stats, deadLetterDepth(convoy.emulator.stats()));
    const busy =
      stats.invocations.inFlight > 0 || stats.serviceBus.sessionsActive > 0 || (stats.durable?.pendingWork ?? 0) > 0;
    if (line !== last && (busy || last !== '')) console.log(line);
    last = line;
  }, 2_000);

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

  // npm (or whatever started us) died, even by SIGKILL: we were re-parented, so stop as on SIGTERM.
  const parent = process.ppid;
  const orphaned = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(orphaned);
    shutdown(`parent process ${parent} exited`);
  }, 500);
  orphaned.unref();

  superviseAzurite(convoy, dataDir, (code) => {
    clearInterval(progress);
    stoppingSince = Date.now();
    const forced = setTimeout(() => process.exit(code), 5_000);
    forced.unref();
    void convoy.stop().finally(() => process.exit(code));
  });
}

function describeExit(exit: AzuriteExit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${String(exit.code)}`;
}

/**
 * A dead Azurite is reported at once. With --data-dir its data is on disk, so it is restarted on the
 * same ports (at most 3 times a minute); in memory its data is gone with it, so convoy stops (exit 1)
 * rather than run on against empty tables.
 */
function superviseAzurite(convoy: Convoy, dataDir: string | undefined, stop: (code: number) => void): void {
  const restarts: number[] = [];
  const watch = (): void => {
    const azurite = convoy.azurite;
    void azurite.exited.then((exit) => {
      if (exit.expected) return;
      const what = `Azurite (pid ${azurite.pid}) exited unexpectedly (${describeExit(exit)})`;
      const now = Date.now();
      while (restarts.length > 0 && (restarts[0] ?? now) < now - 60_000) restarts.shift();
      if (dataDir === undefined) {
        console.error(
          `${what}. It kept its data in memory, so the order records and durable state stored there are gone; stopping convoy (exit 1). Run npm start again; add --data-dir <dir> to keep data across such crashes.`,
        );
        stop(1);
        return;
      }
      if (restarts.length >= 3) {
        console.error(`${what} for the 4th time in a minute; stopping convoy (exit 1). Its data stays in ${dataDir}.`);
        stop(1);
        return;
      }
      restarts.push(now);
      console.error(
        `${what}; restarting it on the same ports with its data in ${dataDir} (Azurite saves to disk every 5 s: writes of its last seconds may be gone).`,
      );
      convoy.restartAzurite().then(
        (next) => {
          console.error(`Azurite is back (pid ${next.pid}).`);
          watch();
        },
        (error: unknown) => {
          console.error(
            `Azurite could not be restarted (${error instanceof Error ? error.message : String(error)}); stopping convoy (exit 1).`,
          );
          stop(1);
        },
      );
    });
  };
  watch();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
