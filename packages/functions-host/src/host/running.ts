import type { DurableBackend } from '../durable/backend';
import type { HttpBinding } from './bindHttp';
import type { ServiceBusBindings } from './bindServiceBus';
import { appHookContext, type AppRegistry } from './coreApi';
import type { Invocations } from './invocations';
import type { LocalHost } from './localHost';
import type { Pump } from './pump';
import type { InvokeFunction } from '../worker/contract';
import type { HostStats, ServiceBusStats } from './types';

/** What a host holds once it listens: stopped, killed or (when the start fails) unwound through it. */
export interface Running {
  log: (line: string) => void;
  registry: AppRegistry;
  invocations: Invocations;
  invoke: InvokeFunction;
  http: HttpBinding;
  serviceBus: ServiceBusBindings;
  serviceBusStats: ServiceBusStats;
  pumps: Pump[];
  /** Set once the app turns out to use Durable Functions. */
  durable: { backend?: DurableBackend };
}

/** Undoes a start that failed part way: nothing was running long enough to drain. */
export async function unwind(running: Running): Promise<void> {
  await Promise.all(running.pumps.map((pump) => pump.stop()));
  await Promise.all(running.pumps.map((pump) => pump.settled()));
  await running.serviceBus.close();
  await running.durable.backend?.close();
  await running.http.close();
}

async function kill(running: Running): Promise<void> {
  running.log('killed: dropping every session and connection without draining');
  await Promise.all(running.pumps.map((pump) => pump.abort()));
  await running.http.close();
  await running.durable.backend?.close();
  // The connection stays up until pending accepts have timed out: the SDK cannot cancel them.
  await Promise.all(running.pumps.map((pump) => pump.settled()));
  await running.serviceBus.close();
}

async function drainDurable(durable: DurableBackend, drainMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([durable.whenIdle(), new Promise((resolve) => (timer = setTimeout(resolve, drainMs)))]);
  clearTimeout(timer);
  await durable.close();
}

async function stop(running: Running, durableDrainMs: number): Promise<void> {
  running.log('stopping: draining in-flight calls');
  await Promise.all(running.pumps.map((pump) => pump.stop()));
  await running.http.drain();
  // Pending session accepts end within the accept window; closing the client first would strand them.
  await Promise.all(running.pumps.map((pump) => pump.settled()));
  if (running.durable.backend !== undefined) await drainDurable(running.durable.backend, durableDrainMs);
  await running.serviceBus.close();
  await running.http.close();
  const terminate = appHookContext(running.registry);
  for (const hook of [...(running.registry.hooks.get('appTerminate') ?? [])])
    await Promise.resolve(hook(terminate)).catch(() => undefined);
  running.log(`stopped after ${running.invocations.counters.total} invocations`);
}

function stats(running: Running): HostStats {
  const counters = running.invocations.counters;
  const result: HostStats = {
    invocations: { ...counters, byFunction: { ...counters.byFunction } },
    serviceBus: { ...running.serviceBusStats },
  };
  if (running.durable.backend !== undefined) result.durable = running.durable.backend.stats();
  return result;
}

/** The handle a caller gets: stats, listeners, hooks, and one way out (stop or kill, whichever comes first). */
export function controlsOf(running: Running, durableDrainMs: number): LocalHost {
  const { registry } = running;
  let stopped: Promise<void> | undefined;
  return {
    url: running.http.url,
    port: running.http.port,
    functions: [...registry.functions.values()].map((fn) => fn.info),
    stats: () => stats(running),
    onInvocation: (listener) => running.invocations.onInvocation(listener),
    registerHook(name, callback) {
      const list = registry.hooks.get(name) ?? [];
      list.push(callback);
      registry.hooks.set(name, list);
      return () => {
        const index = list.indexOf(callback);
        if (index >= 0) list.splice(index, 1);
      };
    },
    invoke: running.invoke,
    whenDurableIdle: () => running.durable.backend?.whenIdle() ?? Promise.resolve(),
    stop() {
      stopped ??= stop(running, durableDrainMs);
      return stopped;
    },
    kill() {
      stopped ??= kill(running);
      return stopped;
    },
  };
}
