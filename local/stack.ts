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

/** Azurite (in memory) + the Service Bus emulator + the local Functions host, wired together. */
export async function startConvoy(options: ConvoyOptions = {}): Promise<Convoy> {
  const appRoot = resolve(options.appRoot ?? resolve(__dirname, '..'));
  // allSettled, so a failure of one never leaves the other running unseen.
  const [azuriteResult, emulatorResult] = await Promise.allSettled([
    startAzurite(),
    startEmulator({
      port: options.emulatorPort ?? 0,
      ...(options.emulatorConfig === undefined ? {} : { config: options.emulatorConfig }),
      ...(options.emulatorLog === undefined ? {} : { log: options.emulatorLog }),
    }),
  ]);
  const started: { close(): Promise<void> }[] = [];
  if (azuriteResult.status === 'fulfilled') started.push(azuriteResult.value);
  if (emulatorResult.status === 'fulfilled') started.push(emulatorResult.value);
  try {
    if (azuriteResult.status === 'rejected') throw azuriteResult.reason;
    if (emulatorResult.status === 'rejected') throw emulatorResult.reason;
    const azurite = azuriteResult.value;
    const emulator = emulatorResult.value;
    const settings: Record<string, string> = {
      AzureWebJobsStorage: azurite.connectionString,
      OrderStoreConnection: azurite.connectionString,
      ServiceBusConnection: emulator.connectionString,
      ...options.settings,
    };
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
        await emulator.close();
        await azurite.close();
      },
    };
    return convoy;
  } catch (error) {
    await Promise.all(started.map((s) => s.close().catch(() => undefined)));
    throw error;
  }
}
