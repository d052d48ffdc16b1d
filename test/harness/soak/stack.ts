import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AzuriteHandle } from '../../../local/azurite';
import { defaultEmulatorConfig, type EmulatorConfigFile, type RunningEmulator } from '@convoy/servicebus-emulator';
import type { InvocationEvent } from '@convoy/functions-host';
import { startBackingServices, type BackingServices } from '../../../local/stack';
import { startFaultProxy, type FaultProxy } from '../faultProxy';
import type { Fault } from '../hostProtocol';
import { spawnHost, type HostProcess } from '../hostProcess';
import { appRoot, orderEventsQueue } from '../stack';

/**
 * The soak's stack: Azurite (in memory) and the emulator from startBackingServices, except that the
 * host reaches Azurite through fault proxies (one per storage port), so a storage outage can be
 * switched on and off without losing data; the emulator keeps its messages in a data directory, so it
 * can be stopped and started again on the same port; and the order-events lock duration can be
 * shortened for the short run.
 */

export interface SoakStack {
  readonly azurite: AzuriteHandle;
  readonly emulator: RunningEmulator;
  host: HostProcess;
  /** Every invocation of every host process so far, in the order reported. */
  readonly events: readonly InvocationEvent[];
  /** Hosts started so far (1 + restarts). */
  readonly launches: number;
  /** Host processes that ended on their own (a crash the soak did not inject), each with its stderr tail. */
  readonly unexpectedExits: readonly string[];
  /** AMQP protocol errors printed so far by any emulator or host process of this run. */
  protocolErrors(): string[];
  cutStorage(): void;
  restoreStorage(): void;
  /** SIGKILL the host, then start a new one with the faults not yet fired. */
  killAndRestartHost(): Promise<void>;
  /** Closes the emulator, waits downMs, starts it again on the same port and data directory. */
  restartEmulator(downMs: number): Promise<void>;
  dlqDepth(): number;
  stop(): Promise<void>;
}

function emulatorConfigWithLock(lockDurationMs: number): EmulatorConfigFile {
  const config = defaultEmulatorConfig();
  const iso = `PT${String(lockDurationMs / 1000)}S`;
  for (const namespace of config.UserConfig.Namespaces) {
    for (const queue of namespace.Queues ?? []) {
      if (queue.Name === orderEventsQueue) queue.Properties = { ...queue.Properties, LockDuration: iso };
    }
  }
  return config;
}

export async function startSoakStack(options: {
  lockDurationMs: number;
  faults: Fault[];
  verbose: boolean;
  log: (line: string) => void;
}): Promise<SoakStack> {
  const config = emulatorConfigWithLock(options.lockDurationMs);
  const dataDir = mkdtempSync(join(tmpdir(), 'convoy-soak-emulator-'));
  // The durable backend keeps orchestrations and entities here, so a killed host loses no fulfillment.
  const durableDataDir = mkdtempSync(join(tmpdir(), 'convoy-soak-durable-'));
  const proxies: FaultProxy[] = [];
  let services: BackingServices | undefined;
  try {
    services = await startBackingServices({ emulatorConfig: config, emulatorDataDir: dataDir });
    const { azurite, emulator } = services;
    let storage = azurite.connectionString;
    for (const port of [azurite.blobPort, azurite.queuePort, azurite.tablePort]) {
      const proxy = await startFaultProxy({ port });
      proxies.push(proxy);
      storage = storage.replace(`:${String(port)}/`, `:${String(proxy.port)}/`);
    }
    const hostJson: unknown = JSON.parse(readFileSync(join(appRoot, 'host.json'), 'utf8'));
    const settings = {
      FUNCTIONS_WORKER_RUNTIME: 'node',
      ORDER_EVENTS_QUEUE: orderEventsQueue,
      AzureWebJobsStorage: storage,
      OrderStoreConnection: storage,
      ServiceBusConnection: emulator.connectionString,
    };
    const events: InvocationEvent[] = [];
    const fired = new Set<string>();
    let launches = 0;
    let stopping = false;
    const unexpectedExits: string[] = [];
    const hosts: HostProcess[] = [];
    /** Those of emulators already replaced by a restart. */
    const earlierEmulatorErrors: string[] = [];
    const launch = async (): Promise<HostProcess> => {
      // A fault fires on a first delivery only; the ones already fired are not handed on.
      const faults = options.faults.filter((f) => !fired.has(f.messageId));
      const host = await spawnHost({ appRoot, settings, hostJson, faults, verbose: options.verbose, durableDataDir });
      launches++;
      hosts.push(host);
      const number = launches;
      // A host that dies on its own is a defect to report; the soak starts another, as the platform would.
      host.onUnexpectedExit((how, stderrTail) => {
        const line = `host #${String(number)} (pid ${String(host.pid)}) ended on its own: ${how}`;
        unexpectedExits.push(`${line}\n${stderrTail.split('\n').slice(-20).join('\n')}`);
        options.log(`  ${line}; last stderr:\n${stderrTail}`);
        if (stack.host === host && !stopping)
          void launch().then(
            (next) => {
              stack.host = next;
            },
            (error: unknown) => {
              options.log(`  could not start a host after that: ${String(error)}`);
            },
          );
      });
      host.onInvocation((event) => {
        events.push(event);
        if (event.outcome === 'failed' && event.messageId !== undefined && event.error?.includes('injected fault'))
          fired.add(event.messageId);
      });
      return host;
    };
    const running = services;
    const stack: SoakStack = {
      get azurite() {
        return running.azurite;
      },
      get emulator() {
        return running.emulator;
      },
      host: await launch(),
      events,
      get launches() {
        return launches;
      },
      unexpectedExits,
      protocolErrors: () => [
        ...earlierEmulatorErrors,
        ...running.emulator.protocolErrors(),
        ...hosts.flatMap((h) => h.protocolErrors()),
      ],
      cutStorage() {
        for (const proxy of proxies) proxy.cut();
      },
      restoreStorage() {
        for (const proxy of proxies) proxy.restore();
      },
      async killAndRestartHost() {
        await stack.host.kill();
        stack.host = await launch();
      },
      async restartEmulator(downMs) {
        const replaced = running.emulator;
        await running.restartEmulator(downMs);
        earlierEmulatorErrors.push(...replaced.protocolErrors());
      },
      dlqDepth() {
        return running.emulator
          .stats()
          .entities.filter((e) => e.path.toLowerCase().endsWith('$deadletterqueue'))
          .reduce((sum, e) => sum + e.active, 0);
      },
      async stop() {
        stopping = true;
        await stack.host.stop();
        await Promise.all(proxies.map((p) => p.close()));
        await running.close();
        rmSync(dataDir, { recursive: true, force: true });
        rmSync(durableDataDir, { recursive: true, force: true });
      },
    };
    return stack;
  } catch (error) {
    await Promise.all(proxies.map((p) => p.close()));
    await services?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(durableDataDir, { recursive: true, force: true });
    throw error;
  }
}
