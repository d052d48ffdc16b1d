import { resolve } from 'node:path';
import type { AzuriteHandle } from '../../local/azurite';
import type { RunningEmulator } from '../../local/emulator';
import { startBackingServices } from '../../local/stack';
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

export async function startStack(options: StackOptions): Promise<Stack> {
  const services = await startBackingServices();
  const { azurite, emulator } = services;
  const settings = {
    FUNCTIONS_WORKER_RUNTIME: 'node',
    ORDER_EVENTS_QUEUE: orderEventsQueue,
    ...services.connectionSettings,
  };
  const launch = (overrides: Partial<Pick<StackOptions, 'faults' | 'handlerCostMs'>> = {}): Promise<HostProcess> =>
    spawnHost({
      appRoot: options.appRoot ?? appRoot,
      settings,
      hostJson: options.hostJson,
      handlerCostMs: overrides.handlerCostMs ?? options.handlerCostMs ?? 0,
      faults: overrides.faults ?? options.faults ?? [],
      verbose: options.verbose ?? false,
    });
  let host: HostProcess;
  try {
    host = await launch();
  } catch (error) {
    await services.close();
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
      await services.close();
    },
  };
  return stack;
}
