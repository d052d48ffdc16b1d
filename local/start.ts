/**
 * `npm start`: Azurite (in memory) + the Service Bus emulator + the local Functions host running the
 * built app (dist/). Flags: --port <http port, default 7071> --emulator-port <port, default free>.
 * Ctrl-C / SIGTERM drains in-flight calls and stops every child.
 */
import { parseArgs } from 'node:util';
import type { HostStats } from './host';
import { startConvoy, type Convoy } from './stack';

function port(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535)
    throw new Error(`${flag} must be a port number (0-65535), got "${value}".`);
  return parsed;
}

function progressLine(stats: HostStats): string {
  const sb = stats.serviceBus;
  const parts = [
    `sessions active ${sb.sessionsActive}`,
    `messages processed ${sb.messagesCompleted}${sb.messagesAbandoned > 0 ? ` (abandoned ${sb.messagesAbandoned})` : ''}`,
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
    `  Azurite (tables)   ${convoy.azurite.tableEndpoint}`,
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
    options: { port: { type: 'string' }, 'emulator-port': { type: 'string' }, 'app-root': { type: 'string' } },
  });
  console.log('starting Azurite, the Service Bus emulator and the Functions host...');
  const convoy = await startConvoy({
    port: port(values.port, '--port', 7071),
    emulatorPort: port(values['emulator-port'], '--emulator-port', 0),
    ...(values['app-root'] === undefined ? {} : { appRoot: values['app-root'] }),
  });
  printEndpoints(convoy);
  console.log(`convoy is ready: ${readyTarget(convoy)}`);

  let last = '';
  const progress = setInterval(() => {
    const stats = convoy.host.stats();
    const line = progressLine(stats);
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
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
