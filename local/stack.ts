import { resolve } from 'node:path';
import { startAzurite, type AzuriteHandle } from './azurite';
import { startEmulator, type RunningEmulator, type StartEmulatorOptions } from './emulator';
import { startLocalHost, type LocalHost } from './host';

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
  /** Drains the host, then stops the emulator and Azurite. */
  stop(): Promise<void>;
}

export interface BackingServices {
  azurite: AzuriteHandle;
  emulator: RunningEmulator;
  /** The connection settings that point the app at them. */
  connectionSettings: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Azurite (in memory) and the Service Bus emulator on free ports: what the app's connections need.
 * Started together; if either fails, the other is closed before the error is thrown.
 */
export async function startBackingServices(
  options: Pick<ConvoyOptions, 'emulatorPort' | 'emulatorConfig' | 'emulatorLog'> = {},
): Promise<BackingServices> {
  const [azuriteResult, emulatorResult] = await Promise.allSettled([
    startAzurite(),
    startEmulator({
      port: options.emulatorPort ?? 0,
      ...(options.emulatorConfig === undefined ? {} : { config: options.emulatorConfig }),
      ...(options.emulatorLog === undefined ? {} : { log: options.emulatorLog }),
    }),
  ]);
  if (azuriteResult.status === 'rejected' || emulatorResult.status === 'rejected') {
    const results = [azuriteResult, emulatorResult];
    const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    await Promise.all(started.map((service) => service.close().catch(() => undefined)));
    throw results.flatMap((r): unknown[] => (r.status === 'rejected' ? [r.reason] : []))[0];
  }
  const azurite = azuriteResult.value;
  const emulator = emulatorResult.value;
  return {
    azurite,
    emulator,
    connectionSettings: {
      AzureWebJobsStorage: azurite.connectionString,
      OrderStoreConnection: azurite.connectionString,
      ServiceBusConnection: emulator.connectionString,
    },
    async close() {
      await emulator.close();
      await azurite.close();
    },
  };
}

/** Azurite (in memory) + the Service Bus emulator + the local Functions host, wired together. */
export async function startConvoy(options: ConvoyOptions = {}): Promise<Convoy> {
  const appRoot = resolve(options.appRoot ?? resolve(__dirname, '..'));
  const services = await startBackingServices(options);
  const { azurite, emulator } = services;
  try {
    const settings: Record<string, string> = { ...services.connectionSettings, ...options.settings };
    const hostOptions = {
      appRoot,
      port: options.port ?? 7071,
      settings,
      ...(options.hostJson === undefined ? {} : { hostJson: options.hostJson }),
      ...(options.log === undefined ? {} : { log: options.log }),
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
      azurite,
      settings,
      async restartHost(how = 'stop') {
        await (how === 'kill' ? host.kill() : host.stop());
        host = await startLocalHost({ ...hostOptions, port: host.port });
        return host;
      },
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
