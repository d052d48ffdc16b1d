import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InvocationEvent } from '../../../local/host';
import { emulatorConfigFileSchema, type EmulatorConfigFile } from '../../../local/emulator/config';
import { startBackingServices, type BackingServices } from '../../../local/stack';
import { startFaultProxy, type FaultProxy } from '../faultProxy';
import type { Fault } from '../hostProtocol';
import { spawnHost, type HostProcess } from '../hostProcess';
import { appRoot, orderEventsQueue } from '../stack';

/**
 * The soak's stack: the emulator and Azurite as bench/lib/stack.ts starts them, but the host reaches
 * Azurite through fault proxies (one per storage port), so a storage outage can be switched on and
 * off without losing data; and the order-events lock duration can be shortened for the short run.
 */

export interface SoakStack {
  services: BackingServices;
  host: HostProcess;
  /** Every invocation of every host process so far, in the order reported. */
  readonly events: readonly InvocationEvent[];
  /** Hosts started so far (1 + restarts). */
  readonly launches: number;
  cutStorage(): void;
  restoreStorage(): void;
  /** SIGKILL the host, then start a new one with the faults not yet fired. */
  killAndRestartHost(): Promise<void>;
  dlqDepth(): number;
  stop(): Promise<void>;
}

function emulatorConfigWithLock(lockDurationMs: number): EmulatorConfigFile {
  const text = readFileSync(join(appRoot, 'local/emulator/config.default.json'), 'utf8');
  const config: EmulatorConfigFile = emulatorConfigFileSchema.parse(JSON.parse(text));
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
}): Promise<SoakStack> {
  const services = await startBackingServices({ emulatorConfig: emulatorConfigWithLock(options.lockDurationMs) });
  const proxies: FaultProxy[] = [];
  try {
    const { azurite } = services;
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
      ...services.connectionSettings,
      AzureWebJobsStorage: storage,
      OrderStoreConnection: storage,
    };
    const events: InvocationEvent[] = [];
    const fired = new Set<string>();
    let launches = 0;
    const launch = async (): Promise<HostProcess> => {
      // A fault fires on a first delivery only; the ones already fired are not handed on.
      const faults = options.faults.filter((f) => !fired.has(f.messageId));
      const host = await spawnHost({ appRoot, settings, hostJson, faults, verbose: options.verbose });
      launches++;
      host.onInvocation((event) => {
        events.push(event);
        if (event.outcome === 'failed' && event.messageId !== undefined && event.error?.includes('injected fault'))
          fired.add(event.messageId);
      });
      return host;
    };
    const stack: SoakStack = {
      services,
      host: await launch(),
      events,
      get launches() {
        return launches;
      },
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
      dlqDepth() {
        return services.emulator
          .stats()
          .entities.filter((e) => e.path.toLowerCase().endsWith('$deadletterqueue'))
          .reduce((sum, e) => sum + e.active, 0);
      },
      async stop() {
        await stack.host.stop();
        await Promise.all(proxies.map((p) => p.close()));
        await services.close();
      },
    };
    return stack;
  } catch (error) {
    await Promise.all(proxies.map((p) => p.close()));
    await services.close();
    throw error;
  }
}
