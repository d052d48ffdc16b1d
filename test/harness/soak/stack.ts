import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackingServices, type AzuriteHandle, type BackingServices } from '@convoy/dev-stack';
import { defaultEmulatorConfig, type EmulatorConfigFile, type RunningEmulator } from '@convoy/servicebus-emulator';
import type { InvocationEvent } from '@convoy/functions-host';
import { startFaultProxy, type FaultProxy } from '../faultProxy';
import type { ChildConfig, Fault } from '../hostProtocol';
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
  readonly host: HostProcess;
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
  const cleanUp = async (): Promise<void> => {
    await Promise.all(proxies.map((p) => p.close()));
    await services?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(durableDataDir, { recursive: true, force: true });
  };
  try {
    services = await startBackingServices({ emulatorConfig: config, emulatorDataDir: dataDir });
    const storage = await proxyStorage(services.azurite, proxies);
    const hostJson: unknown = JSON.parse(readFileSync(join(appRoot, 'host.json'), 'utf8'));
    const settings = {
      FUNCTIONS_WORKER_RUNTIME: 'node',
      ORDER_EVENTS_QUEUE: orderEventsQueue,
      AzureWebJobsStorage: storage,
      OrderStoreConnection: storage,
      ServiceBusConnection: services.emulator.connectionString,
    };
    const fleet = new HostFleet({ appRoot, settings, hostJson, verbose: options.verbose, durableDataDir }, options);
    await fleet.launch();
    return soakStackOf(services, proxies, fleet, cleanUp);
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** A fault proxy in front of each of Azurite's ports; returns the storage connection string through them. */
async function proxyStorage(azurite: AzuriteHandle, proxies: FaultProxy[]): Promise<string> {
  let storage = azurite.connectionString;
  for (const port of [azurite.blobPort, azurite.queuePort, azurite.tablePort]) {
    const proxy = await startFaultProxy({ port });
    proxies.push(proxy);
    storage = storage.replace(`:${String(port)}/`, `:${String(proxy.port)}/`);
  }
  return storage;
}

/**
 * The soak's host processes, one at a time: every invocation of each, and the faults not yet fired.
 * A host that dies on its own is a defect to report; the fleet starts another, as the platform would.
 */
class HostFleet {
  readonly events: InvocationEvent[] = [];
  readonly unexpectedExits: string[] = [];
  readonly hosts: HostProcess[] = [];
  private readonly fired = new Set<string>();
  private stopping = false;

  constructor(
    private readonly config: Omit<ChildConfig, 'faults'>,
    private readonly options: { faults: Fault[]; log: (line: string) => void },
  ) {}

  get current(): HostProcess {
    const host = this.hosts.at(-1);
    if (host === undefined) throw new Error('The soak has started no host yet.');
    return host;
  }

  async launch(): Promise<HostProcess> {
    // A fault fires on a first delivery only; the ones already fired are not handed on.
    const faults = this.options.faults.filter((f) => !this.fired.has(f.messageId));
    const host = await spawnHost({ ...this.config, faults });
    this.hosts.push(host);
    const number = this.hosts.length;
    host.onUnexpectedExit((how, stderrTail) => {
      this.replaceAfterCrash(
        host,
        `host #${String(number)} (pid ${String(host.pid)}) ended on its own: ${how}`,
        stderrTail,
      );
    });
    host.onInvocation((event) => {
      this.events.push(event);
      if (event.outcome === 'failed' && event.messageId !== undefined && event.error?.includes('injected fault'))
        this.fired.add(event.messageId);
    });
    return host;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.current.stop();
  }

  private replaceAfterCrash(host: HostProcess, line: string, stderrTail: string): void {
    this.unexpectedExits.push(`${line}\n${stderrTail.split('\n').slice(-20).join('\n')}`);
    this.options.log(`  ${line}; last stderr:\n${stderrTail}`);
    if (this.current !== host || this.stopping) return;
    this.launch().catch((error: unknown) => {
      this.options.log(`  could not start a host after that: ${String(error)}`);
    });
  }
}

function soakStackOf(
  running: BackingServices,
  proxies: readonly FaultProxy[],
  fleet: HostFleet,
  cleanUp: () => Promise<void>,
): SoakStack {
  /** Those of emulators already replaced by a restart. */
  const earlierEmulatorErrors: string[] = [];
  return {
    get azurite() {
      return running.azurite;
    },
    get emulator() {
      return running.emulator;
    },
    get host() {
      return fleet.current;
    },
    events: fleet.events,
    get launches() {
      return fleet.hosts.length;
    },
    unexpectedExits: fleet.unexpectedExits,
    protocolErrors: () => [
      ...earlierEmulatorErrors,
      ...running.emulator.protocolErrors(),
      ...fleet.hosts.flatMap((h) => h.protocolErrors()),
    ],
    cutStorage: () => {
      for (const proxy of proxies) proxy.cut();
    },
    restoreStorage: () => {
      for (const proxy of proxies) proxy.restore();
    },
    killAndRestartHost: async () => {
      await fleet.current.kill();
      await fleet.launch();
    },
    restartEmulator: async (downMs) => {
      const replaced = running.emulator;
      await running.restartEmulator(downMs);
      earlierEmulatorErrors.push(...replaced.protocolErrors());
    },
    dlqDepth: () =>
      running.emulator
        .stats()
        .entities.filter((e) => e.path.toLowerCase().endsWith('$deadletterqueue'))
        .reduce((sum, e) => sum + e.active, 0),
    stop: async () => {
      await fleet.stop();
      await cleanUp();
    },
  };
}
