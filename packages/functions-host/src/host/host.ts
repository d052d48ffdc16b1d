import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ServiceBusClient } from '@azure/service-bus';
import type { DurableBackend } from '../durable/backend';
import { forwardToDurable, isDurableWebhookPath } from '../durable/forward';
import { startDurable } from './durable';
import {
  appHookContext,
  createRegistry,
  type AppRegistry,
  type HookCallback,
  type LogLevel,
  type RegisteredFunction,
} from './coreApi';
import { parseHostJson, type HostConfig } from './hostConfig';
import { compileRoute } from './http/route';
import {
  defaultHttpLimits,
  startHttpListener,
  type HttpFunction,
  type HttpLimits,
  type HttpListener,
} from './http/server';
import { functionInvoker, registeredFunction, type RpcTypedData } from './invoke';
import { loadApp } from './loadApp';
import { appLogLine, isHostChatter, shows, stamp } from './log';
import { acceptWindowMs, createClient, describeConnection, resolveConnection } from './serviceBus/client';
import { tuneClientSocketsForAmqp } from './serviceBus/clientSockets';
import { emptyServiceBusStats, type MessageFacts } from './serviceBus/dispatch';
import { serviceBusTrigger, type ServiceBusTrigger } from './serviceBus/targets';
import { createInvocations, type Invocations } from './invocations';
import { QueuePump } from './serviceBus/queuePump';
import { SessionPump } from './serviceBus/sessionPump';
import { EmulatorConnection, emulatorEndpointOf } from './serviceBus/amqp/connection';
import { EmulatorSessionReceiver } from './serviceBus/amqp/sessionReceiver';
import type { PumpOptions } from './serviceBus/settle';
import {
  applySettings,
  describeUnknownSettings,
  readSettingsFile,
  resolveBindingExpressions,
  type UnknownSetting,
} from './settings';
import { durableTriggerTypes, methodsOf, stringProp, triggerOf, usesDurable } from './triggers';
import { parseNcrontab, TimerPump } from './timers';
import type { InvokeFunction, RegisteredFunctionInfo, TypedData } from '../worker/contract';
import type { HostStats, InvocationEvent } from './types';

export interface LocalHostOptions {
  /** Folder with package.json (its `main` names the built app), host.json and local.settings.json. */
  appRoot: string;
  /** HTTP port; 0 picks a free one. Default 7071. */
  port?: number;
  /** App settings that win over local.settings.json and the environment. */
  settings?: Record<string, string>;
  /** Used instead of appRoot/host.json. */
  hostJson?: unknown;
  /** Where host lines go; default console.log. */
  log?: (line: string) => void;
  /** How long stop() waits for durable work to finish before closing the backend. Default 10 s. */
  durableDrainMs?: number;
  /**
   * Request body limit and stall timeout. The limit defaults to the FUNCTIONS_REQUEST_BODY_SIZE_LIMIT
   * setting, else the Functions host's 100 MB.
   */
  http?: Partial<HttpLimits>;
  /**
   * Folder where the durable backend keeps orchestration instances, entities and pending work, so
   * they survive a restart or a kill (docs/durable-local.md). Absent = in memory.
   */
  dataDir?: string;
  /**
   * Minimum level of the function lines (one per call, at information; failed calls at error) and of
   * what the app logs; below information the host's session chatter (accepted, idle-closed) is hidden
   * too. Default information.
   */
  logLevel?: LogLevel;
}

function httpLimitsOf(options: LocalHostOptions): HttpLimits {
  const setting = process.env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT;
  let fromSetting: number | undefined;
  if (setting !== undefined && setting !== '') {
    fromSetting = Number(setting);
    if (!Number.isSafeInteger(fromSetting) || fromSetting <= 0)
      throw new Error(`FUNCTIONS_REQUEST_BODY_SIZE_LIMIT must be a positive whole number of bytes, not '${setting}'.`);
  }
  return {
    maxRequestBodyBytes: options.http?.maxRequestBodyBytes ?? fromSetting ?? defaultHttpLimits.maxRequestBodyBytes,
    bodyIdleTimeoutMs: options.http?.bodyIdleTimeoutMs ?? defaultHttpLimits.bodyIdleTimeoutMs,
  };
}

export type HookName = 'preInvocation' | 'postInvocation';

export interface LocalHost {
  url: string;
  port: number;
  functions: readonly RegisteredFunctionInfo[];
  stats(): HostStats;
  onInvocation(listener: (event: InvocationEvent) => void): () => void;
  /** Adds an invocation hook after start (tests use it to inject failures); returns its disposer. */
  registerHook(name: HookName, callback: HookCallback): () => void;
  /** Invoke any registered function through the library's invocation model (the durable contract). */
  invoke: InvokeFunction;
  /** Resolves when no durable work is pending (immediately without durable functions). */
  whenDurableIdle(): Promise<void>;
  /** Drains in-flight calls, closes receivers, the durable backend and the HTTP listener. */
  stop(): Promise<void>;
  /**
   * Simulates a crash: connections are dropped at once, nothing is drained or settled (in-flight
   * handlers keep running but can no longer complete their messages). For restart tests.
   */
  kill(): Promise<void>;
}

interface Pump {
  start(): void;
  /** Stops receiving and waits for in-flight calls to settle. */
  stop(): Promise<void>;
  /** Drops every receiver at once without waiting for in-flight calls. */
  abort(): Promise<void>;
  /** Resolves once every receive loop has ended (pending session accepts end within the accept window). */
  settled(): Promise<void>;
}

function readHostJson(appRoot: string, override: unknown): HostConfig {
  if (override !== undefined) return parseHostJson(override);
  const path = join(appRoot, 'host.json');
  if (!existsSync(path)) return parseHostJson({});
  return parseHostJson(JSON.parse(readFileSync(path, 'utf8')));
}

/** The status code the listener will answer with, for the invocation line. */
function httpStatusOf(returnValue: unknown): string {
  if (returnValue === undefined || returnValue === null) return '204';
  if (typeof returnValue !== 'object' || !('http' in returnValue)) return '500';
  const http = returnValue.http;
  if (typeof http !== 'object' || http === null || !('statusCode' in http)) return '200';
  return String(http.statusCode);
}

/** CONVOY_SESSION_RECEIVER: how session triggers receive from the emulator (rhea by default; sdk as before). */
function sessionReceiver(): 'rhea' | 'sdk' {
  const value = process.env.CONVOY_SESSION_RECEIVER?.trim().toLowerCase() ?? 'rhea';
  if (value === '' || value === 'rhea') return 'rhea';
  if (value === 'sdk') return 'sdk';
  throw new Error(`CONVOY_SESSION_RECEIVER must be "rhea" or "sdk", got "${value}".`);
}

async function closeClient(client: ServiceBusClient, log: (line: string) => void): Promise<void> {
  try {
    await client.close();
  } catch (error) {
    // The SDK can throw from its lock renewer while closing; the links are closed regardless.
    log(`closing the Service Bus client reported: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const appRoot = resolve(options.appRoot);
  const print =
    options.log ??
    ((line: string) => {
      console.log(line);
    });
  const logLevel = options.logLevel ?? 'information';
  const log = (line: string): void => {
    if (!shows('information', logLevel) && isHostChatter(line)) return;
    print(`[${stamp()}] ${line}`);
  };
  const config = readHostJson(appRoot, options.hostJson);
  const settingsFile = readSettingsFile(appRoot);
  applySettings(settingsFile.values, options.settings ?? {});

  const sbStats = emptyServiceBusStats();
  let durable: DurableBackend | undefined;
  let httpFunctions: HttpFunction[] = [];
  const httpInFlight = new Set<Promise<unknown>>();

  const registry: AppRegistry = createRegistry((level, category, message, functionName) => {
    const line = shows(level, logLevel) ? appLogLine(level, category, message, functionName) : undefined;
    if (line !== undefined) log(line);
  });
  const invocations = createInvocations(registry, log, () => durable?.clientInput(), logLevel);
  const run: Invocations['run'] = (...args) => invocations.run(...args);

  const lookup = (name: string): RegisteredFunction => registeredFunction(registry, name);
  const invoke: InvokeFunction = functionInvoker(registry, run);

  // Listen first: the port is part of the environment the app starts in (WEBSITE_HOSTNAME, as Core Tools sets it).
  const http: HttpListener = await startHttpListener(
    options.port ?? 7071,
    () => httpFunctions,
    (target, request) => {
      const fn = lookup(target.name);
      const trigger = triggerOf(fn.info.bindings);
      const data: RpcTypedData = { http: request };
      const describe = (result: unknown, failed: boolean): string =>
        `${request.method} ${new URL(request.url).pathname} → ${failed ? '500' : httpStatusOf(result)}`;
      const work = run(
        fn,
        { inputData: [{ name: trigger?.name ?? 'httpTrigger', data }], triggerMetadata: {} },
        undefined,
        describe,
      );
      httpInFlight.add(work);
      void work.catch(() => undefined).finally(() => httpInFlight.delete(work));
      return work;
    },
    (request, response, url) => {
      // Check-status links of durable clients point here, as with Core Tools.
      if (durable === undefined || !isDurableWebhookPath(url.pathname)) return false;
      forwardToDurable(request, response, durable.httpOrigin);
      return true;
    },
    httpLimitsOf(options),
  );
  const url = `http://localhost:${http.port}`;
  if (options.settings?.WEBSITE_HOSTNAME === undefined) process.env.WEBSITE_HOSTNAME = `localhost:${http.port}`;

  const pumps: Pump[] = [];
  const clients = new Map<string, ServiceBusClient>();
  const emulatorConnections = new Map<string, EmulatorConnection>();
  try {
    const files = await loadApp(appRoot, registry);
    log(`loaded ${files.join(', ')} from ${appRoot} (settings: ${settingsFile.path ?? 'none'})`);

    const unknown: UnknownSetting[] = [];
    const resolved = new Map<string, RegisteredFunctionInfo['bindings']>();
    for (const fn of registry.functions.values()) {
      const result = resolveBindingExpressions(fn.info.bindings, fn.info.name, process.env);
      unknown.push(...result.unknown);
      resolved.set(fn.info.name, result.bindings);
    }
    if (unknown.length > 0) throw new Error(describeUnknownSettings(unknown));

    const infos = [...registry.functions.values()].map((fn) => fn.info);
    if (infos.some(usesDurable)) {
      durable = await startDurable({
        taskHubName: config.durableHubName,
        functions: infos,
        invoke,
        log,
        ...config.durableConcurrency,
        ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      });
      log(`durable backend started (task hub ${config.durableHubName})`);
    }

    const targets: ServiceBusTrigger[] = [];
    for (const fn of registry.functions.values()) {
      const bindings = resolved.get(fn.info.name) ?? fn.info.bindings;
      const trigger = triggerOf(bindings);
      const type = trigger?.binding.type.toLowerCase();
      if (trigger === undefined || type === undefined) continue;
      if (type === 'httptrigger') {
        const route = compileRoute(config.routePrefix, stringProp(trigger.binding, 'route') ?? fn.info.name);
        httpFunctions.push({ name: fn.info.name, route, methods: methodsOf(trigger.binding) });
        log(`${fn.info.name}: [${methodsOf(trigger.binding)?.join(',') ?? 'ALL'}] ${url}/${route.template}`);
      } else if (type === 'servicebustrigger') {
        targets.push(serviceBusTrigger(fn.info.name, trigger, config.serviceBus.autoCompleteMessages));
      } else if (type === 'timertrigger') {
        const schedule = stringProp(trigger.binding, 'schedule') ?? '';
        const name = trigger.name;
        pumps.push(
          new TimerPump(parseNcrontab(schedule), async (json) => {
            await run(fn, { inputData: [{ name, data: { json } }], triggerMetadata: {} });
          }),
        );
        log(`${fn.info.name}: timer ${schedule} (UTC)`);
      } else if (!durableTriggerTypes.has(type)) {
        log(`${fn.info.name}: ${trigger.binding.type} is not run by the local host (registered only)`);
      }
    }
    httpFunctions = [...httpFunctions];

    if (targets.length > 0) tuneClientSocketsForAmqp();
    for (const { target, sessions, connection } of targets) {
      const resolvedConnection = resolveConnection(connection, process.env);
      const timeoutMs = sessions
        ? Math.min(acceptWindowMs, config.serviceBus.retry.tryTimeoutMs)
        : config.serviceBus.retry.tryTimeoutMs;
      const key = `${JSON.stringify(resolvedConnection)}|${timeoutMs}`;
      let client = clients.get(key);
      if (client === undefined) {
        client = createClient(resolvedConnection, config.serviceBus, timeoutMs);
        clients.set(key, client);
      }
      const fn = lookup(target.functionName);
      const trigger = triggerOf(fn.info.bindings);
      const dispatch = async (
        _name: string,
        data: TypedData,
        triggerMetadata: Record<string, TypedData>,
        facts: MessageFacts,
      ): Promise<void> => {
        await run(fn, { inputData: [{ name: trigger?.name ?? 'serviceBusTrigger', data }], triggerMetadata }, facts);
      };
      const pumpOptions: PumpOptions = { client, target, options: config.serviceBus, dispatch, stats: sbStats, log };
      const endpoint =
        sessions && resolvedConnection.kind === 'connectionString' && sessionReceiver() === 'rhea'
          ? emulatorEndpointOf(resolvedConnection.connectionString)
          : undefined;
      if (endpoint !== undefined && resolvedConnection.kind === 'connectionString') {
        // The emulator: sessions received straight on rhea (docs/local-host.md), the rest through the SDK.
        let connection = emulatorConnections.get(resolvedConnection.connectionString);
        if (connection === undefined) {
          connection = new EmulatorConnection(endpoint, config.serviceBus.retry.tryTimeoutMs);
          emulatorConnections.set(resolvedConnection.connectionString, connection);
        }
        const emulator = connection;
        const acceptOptions = {
          timeoutMs,
          maxAutoLockRenewalDurationMs: config.serviceBus.maxAutoLockRenewalDurationMs,
        };
        pumpOptions.acceptSession = () => EmulatorSessionReceiver.acceptNext(emulator, target.entity, acceptOptions);
      }
      const pump: Pump = sessions ? new SessionPump(pumpOptions) : new QueuePump(pumpOptions);
      pumps.push(pump);
      const sb = config.serviceBus;
      log(
        `${target.functionName}: ${target.entity} on ${describeConnection(resolvedConnection)} ` +
          (sessions
            ? `(sessions: maxConcurrentSessions=${sb.maxConcurrentSessions}, sessionIdleTimeout=${sb.sessionIdleTimeoutMs} ms, prefetch=${sb.prefetchCount})`
            : `(maxConcurrentCalls=${sb.maxConcurrentCalls})`),
      );
    }
    for (const pump of pumps) pump.start();
  } catch (error) {
    await Promise.all(pumps.map((p) => p.stop()));
    await Promise.all(pumps.map((p) => p.settled()));
    await Promise.all([...clients.values()].map((c) => closeClient(c, log)));
    await Promise.all([...emulatorConnections.values()].map((c) => c.close()));
    await durable?.close();
    await http.close();
    throw error;
  }

  let stopped: Promise<void> | undefined;
  async function kill(): Promise<void> {
    log('killed: dropping every session and connection without draining');
    await Promise.all(pumps.map((p) => p.abort()));
    await http.close();
    await durable?.close();
    // The connection stays up until pending accepts have timed out: the SDK cannot cancel them.
    await Promise.all(pumps.map((p) => p.settled()));
    await Promise.all([...clients.values()].map((c) => closeClient(c, log)));
    await Promise.all([...emulatorConnections.values()].map((c) => c.close()));
  }

  async function stop(): Promise<void> {
    log('stopping: draining in-flight calls');
    await Promise.all(pumps.map((p) => p.stop()));
    await Promise.all([...httpInFlight].map((w) => w.catch(() => undefined)));
    // Pending session accepts end within the accept window; closing the client first would strand them.
    await Promise.all(pumps.map((p) => p.settled()));
    if (durable !== undefined) {
      const drainMs = options.durableDrainMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([durable.whenIdle(), new Promise((r) => (timer = setTimeout(r, drainMs)))]);
      clearTimeout(timer);
      await durable.close();
    }
    await Promise.all([...clients.values()].map((c) => closeClient(c, log)));
    await Promise.all([...emulatorConnections.values()].map((c) => c.close()));
    await http.close();
    const terminate = appHookContext(registry);
    for (const hook of [...(registry.hooks.get('appTerminate') ?? [])])
      await Promise.resolve(hook(terminate)).catch(() => undefined);
    log(`stopped after ${invocations.counters.total} invocations`);
  }

  return {
    url,
    port: http.port,
    functions: [...registry.functions.values()].map((fn) => fn.info),
    stats() {
      const counters = invocations.counters;
      const stats: HostStats = {
        invocations: { ...counters, byFunction: { ...counters.byFunction } },
        serviceBus: { ...sbStats },
      };
      if (durable !== undefined) stats.durable = durable.stats();
      return stats;
    },
    onInvocation: (listener) => invocations.onInvocation(listener),
    registerHook(name, callback) {
      const list = registry.hooks.get(name) ?? [];
      list.push(callback);
      registry.hooks.set(name, list);
      return () => {
        const index = list.indexOf(callback);
        if (index >= 0) list.splice(index, 1);
      };
    },
    invoke,
    whenDurableIdle: () => durable?.whenIdle() ?? Promise.resolve(),
    stop() {
      stopped ??= stop();
      return stopped;
    },
    kill() {
      stopped ??= kill();
      return stopped;
    },
  };
}
