import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AzuriteHandle } from './azurite';
import { AzuriteKeeper, type AzuriteEvent } from './azuriteRecovery';
import {
  startEmulator,
  startLocalHost,
  type LocalHost,
  type LocalHostOptions,
  type RunningEmulator,
  type StartEmulatorOptions,
} from './standIns';

export type { AzuriteEvent } from './azuriteRecovery';

export interface ConvoyOptions {
  /** The app folder (package.json, host.json, local.settings.json). Default: the repository root. */
  appRoot?: string;
  /** HTTP port of the Functions host; 0 = free port. Default 7071. */
  port?: number;
  /** Service Bus emulator port; 0 or absent = free port. */
  emulatorPort?: number;
  /** Extra settings; they win over the generated connection settings. */
  settings?: Record<string, string>;
  /** Used instead of appRoot/host.json. */
  hostJson?: unknown;
  /** Host lines; default console.log. */
  log?: (line: string) => void;
  /** Emulator log lines (quiet by default). */
  emulatorLog?: (line: string) => void;
  /** Service Bus emulator config (official Config.json path or object); default the built-in one. */
  emulatorConfig?: StartEmulatorOptions['config'];
  /**
   * Keep state on disk so a restart loses nothing: Azurite in <dataDir>/azurite, the emulator's
   * journal in <dataDir>/servicebus, the durable backend in <dataDir>/durable. Absent = in memory.
   * With it, an Azurite that dies is restarted and what it had not saved is given back to the queue.
   */
  dataDir?: string;
  /** What happens to Azurite when it dies unexpectedly (the caller reports it). */
  onAzurite?: (event: AzuriteEvent) => void;
  /** Minimum level of the host's function lines (LocalHostOptions.logLevel). */
  logLevel?: LocalHostOptions['logLevel'];
}

export interface Convoy {
  url: string;
  host: LocalHost;
  emulator: RunningEmulator;
  azurite: AzuriteHandle;
  /** The connection settings the host was started with. */
  settings: Record<string, string>;
  /** Stops (or kills) the host and starts a fresh one on the same emulator, Azurite and port. */
  restartHost(how?: 'stop' | 'kill'): Promise<LocalHost>;
  /** Starts Azurite again on the same ports and data directory (after it died). */
  restartAzurite(): Promise<AzuriteHandle>;
  /** Drains the host, then stops the emulator and Azurite. */
  stop(): Promise<void>;
}

export interface BackingServices {
  /** The current Azurite (replaced by restartAzurite). */
  readonly azurite: AzuriteHandle;
  /** The current emulator (replaced by restartEmulator). */
  readonly emulator: RunningEmulator;
  /** The connection settings that point the app at them. */
  connectionSettings: Record<string, string>;
  /** Starts Azurite again on the same ports and location; the connection settings stay valid. */
  restartAzurite(): Promise<AzuriteHandle>;
  /**
   * Closes the emulator, waits `downMs`, and starts it again on the same port, config and data
   * directory (messages survive only with a data directory); the connection settings stay valid.
   */
  restartEmulator(downMs?: number): Promise<RunningEmulator>;
  close(): Promise<void>;
}

export type BackingServicesOptions = Pick<
  ConvoyOptions,
  'emulatorPort' | 'emulatorConfig' | 'emulatorLog' | 'dataDir' | 'onAzurite'
> & {
  /** The emulator's journal only, with Azurite in memory (dataDir puts both on disk). */
  emulatorDataDir?: string;
};

/**
 * Azurite and the Service Bus emulator on free ports (in memory unless dataDir or emulatorDataDir
 * says otherwise): what the app's connections need. Started together; if either fails, the other is
 * closed before the error is thrown.
 */
export async function startBackingServices(options: BackingServicesOptions = {}): Promise<BackingServices> {
  const location = options.dataDir === undefined ? undefined : join(resolve(options.dataDir), 'azurite');
  const emulatorDataDir =
    options.emulatorDataDir ??
    (options.dataDir === undefined ? undefined : join(resolve(options.dataDir), 'servicebus'));
  const emulatorOptions = (port: number): StartEmulatorOptions => ({
    port,
    ...(emulatorDataDir === undefined ? {} : { dataDir: emulatorDataDir }),
    ...(options.emulatorConfig === undefined ? {} : { config: options.emulatorConfig }),
    ...(options.emulatorLog === undefined ? {} : { log: options.emulatorLog }),
    // What Azurite had not saved when it died is given back from here (azuriteRecovery.ts).
    ...(location === undefined ? {} : { retainCompletions: true }),
  });
  let emulator: RunningEmulator | undefined;
  const [azuriteResult, emulatorResult] = await Promise.allSettled([
    AzuriteKeeper.start({
      location,
      ledger: () => emulator?.completions,
      onEvent: (event: AzuriteEvent) => options.onAzurite?.(event),
    }),
    startEmulator(emulatorOptions(options.emulatorPort ?? 0)),
  ]);
  if (azuriteResult.status === 'rejected' || emulatorResult.status === 'rejected') {
    const results = [azuriteResult, emulatorResult];
    const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    await Promise.all(started.map((service) => service.close().catch(() => undefined)));
    throw results.flatMap((r): unknown[] => (r.status === 'rejected' ? [r.reason] : []))[0];
  }
  const keeper = azuriteResult.value;
  let running = emulatorResult.value;
  emulator = running;
  return {
    get azurite() {
      return keeper.azurite;
    },
    get emulator() {
      return running;
    },
    connectionSettings: {
      AzureWebJobsStorage: keeper.azurite.connectionString,
      OrderStoreConnection: keeper.azurite.connectionString,
      ServiceBusConnection: running.connectionString,
    },
    restartAzurite: () => keeper.restart(),
    async restartEmulator(downMs = 0) {
      const port = running.port;
      await running.close();
      await sleep(downMs);
      running = await startEmulator(emulatorOptions(port));
      emulator = running;
      return running;
    },
    async close() {
      await running.close();
      await keeper.close();
    },
  };
}

/** Azurite (in memory) + the Service Bus emulator + the local Functions host, wired together. */
export async function startConvoy(options: ConvoyOptions = {}): Promise<Convoy> {
  const appRoot = resolve(options.appRoot ?? resolve(__dirname, '..', '..', '..'));
  const services = await startBackingServices(options);
  const { emulator } = services;
  try {
    const settings: Record<string, string> = { ...services.connectionSettings, ...options.settings };
    const hostOptions = {
      appRoot,
      port: options.port ?? 7071,
      settings,
      ...(options.hostJson === undefined ? {} : { hostJson: options.hostJson }),
      ...(options.log === undefined ? {} : { log: options.log }),
      ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel }),
      // The durable backend's on-disk state (LocalHostOptions.dataDir).
      ...(options.dataDir === undefined ? {} : { dataDir: join(resolve(options.dataDir), 'durable') }),
    };
    let host = await startLocalHost(hostOptions);
    const convoy: Convoy = {
      get url() {
        return host.url;
      },
      get host() {
        return host;
      },
      emulator,
      get azurite() {
        return services.azurite;
      },
      settings,
      async restartHost(how = 'stop') {
        await (how === 'kill' ? host.kill() : host.stop());
        host = await startLocalHost({ ...hostOptions, port: host.port });
        return host;
      },
      restartAzurite: () => services.restartAzurite(),
      async stop() {
        await host.stop();
        await services.close();
      },
    };
    return convoy;
  } catch (error) {
    await services.close().catch(() => undefined);
    throw error;
  }
}
