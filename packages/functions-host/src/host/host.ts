import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bindHttp, httpLimitsOf } from './bindHttp';
import { ServiceBusBindings } from './bindServiceBus';
import { bindTimer } from './bindTimers';
import { workerCapabilities } from './capabilities';
import {
  createRegistry,
  programmingModelOf,
  type AppRegistry,
  type LogLevel,
  type RegisteredFunction,
} from './coreApi';
import { startDurable } from './durable';
import { parseHostJson, type HostConfig } from './hostConfig';
import { createInvocations, type Invocations } from './invocations';
import { functionInvoker, registeredFunction } from './invoke';
import type { LocalHost, LocalHostOptions } from './localHost';
import { loadApp } from './loadApp';
import { appLogLine, isHostChatter, shows, stamp } from './log';
import { controlsOf, unwind, type Running } from './running';
import { tuneClientSocketsForAmqp } from './serviceBus/clientSockets';
import { guardReopenOfClosingConnections } from './serviceBus/reopenGuard';
import { emptyServiceBusStats } from './serviceBus/dispatch';
import { serviceBusTrigger, type ServiceBusTrigger } from './serviceBus/targets';
import {
  applySettings,
  describeUnknownSettings,
  readSettingsFile,
  resolveBindingExpressions,
  type UnknownSetting,
} from './settings';
import { durableTriggerTypes, triggerOf, usesDurable } from './triggers';
import type { RegisteredFunctionInfo } from '../worker/contract';

export type { HookName, LocalHost, LocalHostOptions } from './localHost';

type Bindings = RegisteredFunctionInfo['bindings'];

function readHostJson(appRoot: string, override: unknown): HostConfig {
  if (override !== undefined) return parseHostJson(override);
  const path = join(appRoot, 'host.json');
  if (!existsSync(path)) return parseHostJson({});
  return parseHostJson(JSON.parse(readFileSync(path, 'utf8')));
}

/** Host lines, stamped; below information the session chatter (accepted, idle-closed) is left out. */
function hostLog(print: ((line: string) => void) | undefined, logLevel: LogLevel): (line: string) => void {
  const out =
    print ??
    ((line: string) => {
      console.log(line);
    });
  return (line) => {
    if (!shows('information', logLevel) && isHostChatter(line)) return;
    out(`[${stamp()}] ${line}`);
  };
}

/**
 * Starts the host as `func start` would: settings applied, the HTTP port listening, the app loaded
 * as the Node worker loads it, the durable backend started if the app uses it, then every trigger
 * bound (HTTP routes, Service Bus pumps, timers).
 */
export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const appRoot = resolve(options.appRoot);
  const logLevel = options.logLevel ?? 'information';
  const log = hostLog(options.log, logLevel);
  const config = readHostJson(appRoot, options.hostJson);
  const settingsFile = readSettingsFile(appRoot);
  applySettings(settingsFile.values, options.settings ?? {});
  // The app's Service Bus SDK clients in this process survive an emulator restart without a second open.
  guardReopenOfClosingConnections();

  const registry: AppRegistry = createRegistry((level, category, message, functionName) => {
    const line = shows(level, logLevel) ? appLogLine(level, category, message, functionName) : undefined;
    if (line !== undefined) log(line);
  });
  const durable: Running['durable'] = {};
  const invocations = createInvocations(registry, log, () => durable.backend?.clientInput(), logLevel);
  const run: Invocations['run'] = (...args) => invocations.run(...args);
  const lookup = (name: string): RegisteredFunction => registeredFunction(registry, name);

  // Listen first: the port is part of the environment the app starts in (WEBSITE_HOSTNAME, as Core Tools sets it).
  const limits = httpLimitsOf(options.http);
  const http = await bindHttp({ port: options.port ?? 7071, limits, lookup, run, durable: () => durable.backend, log });
  if (options.settings?.WEBSITE_HOSTNAME === undefined) process.env.WEBSITE_HOSTNAME = `localhost:${http.port}`;

  const serviceBusStats = emptyServiceBusStats();
  const running: Running = {
    log,
    registry,
    invocations,
    invoke: functionInvoker(registry, run),
    http,
    serviceBus: new ServiceBusBindings(config, serviceBusStats, run, log),
    serviceBusStats,
    pumps: [],
    durable,
  };
  try {
    const files = await loadApp(appRoot, registry);
    log(`loaded ${files.join(', ')} from ${appRoot} (settings: ${settingsFile.path ?? 'none'})`);
    http.useWorker(await workerCapabilities(programmingModelOf(registry)));
    const bindings = resolvedBindings(registry);
    await startDurableIfUsed(running, config, options.dataDir);
    bindTriggers(running, config, run, bindings);
    for (const pump of running.pumps) pump.start();
  } catch (error) {
    await unwind(running);
    throw error;
  }
  return controlsOf(running, options.durableDrainMs ?? 10_000);
}

/** Every function's bindings with %setting% expressions resolved; any unknown setting fails the start. */
function resolvedBindings(registry: AppRegistry): Map<string, Bindings> {
  const unknown: UnknownSetting[] = [];
  const resolved = new Map<string, Bindings>();
  for (const fn of registry.functions.values()) {
    const result = resolveBindingExpressions(fn.info.bindings, fn.info.name, process.env);
    unknown.push(...result.unknown);
    resolved.set(fn.info.name, result.bindings);
  }
  if (unknown.length > 0) throw new Error(describeUnknownSettings(unknown));
  return resolved;
}

async function startDurableIfUsed(running: Running, config: HostConfig, dataDir: string | undefined): Promise<void> {
  const infos = [...running.registry.functions.values()].map((fn) => fn.info);
  if (!infos.some(usesDurable)) return;
  running.durable.backend = await startDurable({
    taskHubName: config.durableHubName,
    functions: infos,
    invoke: running.invoke,
    log: running.log,
    ...config.durableConcurrency,
    ...(dataDir === undefined ? {} : { dataDir }),
  });
  running.log(`durable backend started (task hub ${config.durableHubName})`);
}

/** Routes HTTP triggers, makes a pump per Service Bus and timer trigger; durable triggers run through the backend. */
function bindTriggers(
  running: Running,
  config: HostConfig,
  run: Invocations['run'],
  bindings: Map<string, Bindings>,
): void {
  const serviceBus: [RegisteredFunction, ServiceBusTrigger][] = [];
  for (const fn of running.registry.functions.values()) {
    const trigger = triggerOf(bindings.get(fn.info.name) ?? fn.info.bindings);
    const type = trigger?.binding.type.toLowerCase();
    if (trigger === undefined || type === undefined) continue;
    if (type === 'httptrigger') running.http.route(fn.info.name, trigger, config.routePrefix);
    else if (type === 'servicebustrigger')
      serviceBus.push([fn, serviceBusTrigger(fn.info.name, trigger, config.serviceBus.autoCompleteMessages)]);
    else if (type === 'timertrigger') running.pumps.push(bindTimer(fn, trigger, run, running.log));
    else if (!durableTriggerTypes.has(type))
      running.log(`${fn.info.name}: ${trigger.binding.type} is not run by the local host (registered only)`);
  }
  if (serviceBus.length > 0) tuneClientSocketsForAmqp();
  for (const [fn, trigger] of serviceBus) running.pumps.push(running.serviceBus.bind(fn, trigger));
}
