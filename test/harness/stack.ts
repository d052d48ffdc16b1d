import { resolve } from 'node:path';
import { startBackingServices, type AzuriteHandle } from '@convoy/dev-stack';
import type { RunningEmulator } from '@convoy/servicebus-emulator';
import { startFaultProxy, type FaultProxy } from './faultProxy';
import type { Fault } from './hostProtocol';
import { spawnHost, type HostProcess } from './hostProcess';
import { assertNoProtocolErrors } from './protocolErrors';

/**
 * Azurite + the Service Bus emulator (in this process) + the local host (its own process) on
 * free ports. The host can be killed and started again against the same emulator and Azurite.
 */

export const appRoot = resolve(__dirname, '../..');
export const orderEventsQueue = 'order-events';

export interface StackOptions {
  /** Folder of the app to host; default the repository (the built convoy in dist/). */
  appRoot?: string;
  /** host.json as the app ships it, or a variant (bench sweeps). */
  hostJson: unknown;
  handlerCostMs?: number;
  faults?: Fault[];
  verbose?: boolean;
  /**
   * Route the host's storage connections (AzureWebJobsStorage, OrderStoreConnection) through fault
   * proxies, one per Azurite endpoint, so a test can cut storage without stopping Azurite.
   */
  storageProxy?: boolean;
}

/** The blob, queue and table proxies in front of Azurite, cut and restored together. */
export interface StorageProxy {
  readonly isCut: boolean;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export interface Stack {
  emulator: RunningEmulator;
  azurite: AzuriteHandle;
  host: HostProcess;
  /** Present when started with storageProxy: true. */
  storageProxy: StorageProxy | undefined;
  /** Starts a new host process (after kill() or stop() of the previous one). */
  restartHost(options?: Partial<Pick<StackOptions, 'faults' | 'handlerCostMs'>>): Promise<HostProcess>;
  /** AMQP protocol errors so far: the emulator's, and those printed by any host process this stack ran. */
  protocolErrors(): string[];
  /** Throws if the stack printed a protocol error (the e2e tests call it after each test). */
  assertNoProtocolErrors(): void;
  /** Stops everything, then throws if a protocol error was printed (one at shutdown included). */
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const services = await startBackingServices();
  const { azurite, emulator } = services;
  let storageProxy: StorageProxy | undefined;
  const storageSettings: Record<string, string> = {};
  if (options.storageProxy === true) {
    try {
      ({ proxy: storageProxy, connectionString: storageSettings.AzureWebJobsStorage } = await proxyStorage(azurite));
      storageSettings.OrderStoreConnection = storageSettings.AzureWebJobsStorage;
    } catch (error) {
      await services.close();
      throw error;
    }
  }
  const settings = {
    FUNCTIONS_WORKER_RUNTIME: 'node',
    ORDER_EVENTS_QUEUE: orderEventsQueue,
    ...services.connectionSettings,
    ...storageSettings,
  };
  const hosts: HostProcess[] = [];
  const launch = async (
    overrides: Partial<Pick<StackOptions, 'faults' | 'handlerCostMs'>> = {},
  ): Promise<HostProcess> => {
    const host = await spawnHost({
      appRoot: options.appRoot ?? appRoot,
      settings,
      hostJson: options.hostJson,
      handlerCostMs: overrides.handlerCostMs ?? options.handlerCostMs ?? 0,
      faults: overrides.faults ?? options.faults ?? [],
      verbose: options.verbose ?? false,
    });
    hosts.push(host);
    return host;
  };
  const protocolErrors = (): string[] => [
    ...services.emulator.protocolErrors(),
    ...hosts.flatMap((h) => h.protocolErrors()),
  ];
  let host: HostProcess;
  try {
    host = await launch();
  } catch (error) {
    await storageProxy?.close();
    await services.close();
    throw error;
  }
  const stack: Stack = {
    emulator,
    azurite,
    host,
    storageProxy,
    async restartHost(overrides) {
      stack.host = await launch(overrides);
      return stack.host;
    },
    protocolErrors,
    assertNoProtocolErrors() {
      assertNoProtocolErrors(protocolErrors());
    },
    async stop() {
      await stack.host.stop();
      await storageProxy?.close();
      await services.close();
      assertNoProtocolErrors(protocolErrors());
    },
  };
  return stack;
}

async function proxyStorage(azurite: AzuriteHandle): Promise<{ proxy: StorageProxy; connectionString: string }> {
  const ports = [azurite.blobPort, azurite.queuePort, azurite.tablePort];
  const settled = await Promise.allSettled(ports.map((port) => startFaultProxy({ port })));
  const proxies = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(proxies.map((p) => p.close()));
    throw failed.reason;
  }
  // Each endpoint's port is replaced by its proxy's; the rest of the connection string stays.
  let connectionString = azurite.connectionString;
  ports.forEach((port, i) => {
    connectionString = connectionString.replace(`:${String(port)}/`, `:${String((proxies[i] as FaultProxy).port)}/`);
  });
  return {
    connectionString,
    proxy: {
      get isCut() {
        return proxies.some((p) => p.isCut);
      },
      cut() {
        for (const p of proxies) p.cut();
      },
      restore() {
        for (const p of proxies) p.restore();
      },
      async close() {
        await Promise.all(proxies.map((p) => p.close()));
      },
    },
  };
}
