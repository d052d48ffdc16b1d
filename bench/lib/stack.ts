import { resolve } from 'node:path';
import { startAzurite, type AzuriteHandle } from '../../local/azurite';
import { startEmulator, type RunningEmulator } from '../../local/emulator';
import type { Fault } from './hostProtocol';
import { spawnHost, type HostProcess } from './hostProcess';

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
}

export interface Stack {
  emulator: RunningEmulator;
  azurite: AzuriteHandle;
  host: HostProcess;
  /** Starts a new host process (after kill() or stop() of the previous one). */
  restartHost(options?: Partial<Pick<StackOptions, 'faults' | 'handlerCostMs'>>): Promise<HostProcess>;
  stop(): Promise<void>;
}

export function appSettings(emulator: RunningEmulator, azurite: AzuriteHandle): Record<string, string> {
  return {
    FUNCTIONS_WORKER_RUNTIME: 'node',
    AzureWebJobsStorage: azurite.connectionString,
    ServiceBusConnection: emulator.connectionString,
    OrderStoreConnection: azurite.connectionString,
    ORDER_EVENTS_QUEUE: orderEventsQueue,
  };
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const [azurite, emulator] = await Promise.all([startAzurite(), startEmulator()]);
  const launch = (overrides: Partial<Pick<StackOptions, 'faults' | 'handlerCostMs'>> = {}): Promise<HostProcess> =>
    spawnHost({
      appRoot: options.appRoot ?? appRoot,
      settings: appSettings(emulator, azurite),
      hostJson: options.hostJson,
      handlerCostMs: overrides.handlerCostMs ?? options.handlerCostMs ?? 0,
      faults: overrides.faults ?? options.faults ?? [],
      verbose: options.verbose ?? false,
    });
  let host: HostProcess;
  try {
    host = await launch();
  } catch (error) {
    await Promise.all([azurite.close(), emulator.close()]);
    throw error;
  }
  const stack: Stack = {
    emulator,
    azurite,
    host,
    async restartHost(overrides) {
      stack.host = await launch(overrides);
      return stack.host;
    },
    async stop() {
      await stack.host.stop();
      await Promise.all([emulator.close(), azurite.close()]);
    },
  };
  return stack;
}
