import '@convoy/dev-stack/crashReport';
import { startLocalHost, type InvocationEvent, type LocalHost } from '@convoy/functions-host';
import { parseChildConfig, parseCommand, toParentMessage } from './hostProtocol';
import { costHook, faultHook } from './hooks';
import { tablePortOf, tallyOutgoingHttp } from './httpTally';

/**
 * Runs the local host in its own process, so a test can SIGKILL it mid-run like a crashed
 * worker, and so the host gets its own core next to the emulator and Azurite. Configuration
 * arrives in CONVOY_HOST_CONFIG; invocation events go to the parent over IPC.
 */

function send(message: ReturnType<typeof toParentMessage>): void {
  if (process.send === undefined) throw new Error('hostChild must be spawned with an IPC channel.');
  if (message.kind !== 'invocations') flushInvocations();
  process.send(message);
}

/**
 * Invocation events leave in batches, at most `batchMs` after the first of a batch ended: one IPC
 * message per event cost the host ~5 % of its CPU in the processor bench. Any other message
 * (stats, log, stopped) sends the batch first, so the parent never sees a reply ahead of an event
 * that ended before it. A SIGKILL can lose at most the last `batchMs` of events.
 */
const batchMs = 10;
let batch: InvocationEvent[] = [];
let batchTimer: NodeJS.Timeout | undefined;

function flushInvocations(): void {
  clearTimeout(batchTimer);
  batchTimer = undefined;
  if (batch.length === 0) return;
  const events = batch;
  batch = [];
  send(toParentMessage({ kind: 'invocations', events }));
}

function report(event: InvocationEvent): void {
  batch.push(event);
  batchTimer ??= setTimeout(flushInvocations, batchMs);
}

async function main(): Promise<void> {
  const config = parseChildConfig(process.env.CONVOY_HOST_CONFIG);
  const httpTally = tallyOutgoingHttp(tablePortOf(config.settings.OrderStoreConnection));
  const lines: string[] = [];
  const host: LocalHost = await startLocalHost({
    appRoot: config.appRoot,
    port: 0,
    settings: config.settings,
    hostJson: config.hostJson,
    ...(config.durableDataDir === undefined ? {} : { dataDir: config.durableDataDir }),
    // Host lines are kept for the parent to print when something goes wrong.
    log: (line) => {
      lines.push(line);
      if (lines.length > 400) lines.shift();
      if (config.verbose) process.stderr.write(`${line}\n`);
    },
  });
  if (config.handlerCostMs > 0) host.registerHook('preInvocation', costHook(config.costFunction, config.handlerCostMs));
  if (config.faults.length > 0) host.registerHook('preInvocation', faultHook(config.faults));
  host.onInvocation(report);

  process.on('message', (raw: unknown) => {
    const command = parseCommand(raw);
    if (command?.kind === 'stop') {
      void host.stop().then(
        () => {
          send(toParentMessage({ kind: 'stopped' }));
          process.disconnect();
        },
        (error: unknown) => {
          process.stderr.write(`stop failed: ${String(error)}\n${lines.join('\n')}\n`);
          process.exit(1);
        },
      );
    } else if (command?.kind === 'dumpLog') {
      send(toParentMessage({ kind: 'log', lines: [...lines] }));
    } else if (command?.kind === 'stats') {
      send(toParentMessage({ kind: 'stats', serviceBus: host.stats().serviceBus, http: httpTally() }));
    }
  });
  // The parent is gone (or we disconnected after stop): never outlive it holding sessions.
  process.on('disconnect', () => {
    process.exit(0);
  });
  send(toParentMessage({ kind: 'ready', url: host.url }));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `host failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
