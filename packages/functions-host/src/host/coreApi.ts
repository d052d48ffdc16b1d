import Module from 'node:module';
import { z } from 'zod';
import { hasMethods } from './guards';
import type { RegisteredFunctionInfo } from '../worker/contract';

/**
 * The `@azure/functions-core` module the Node worker provides at runtime (never on npm). The
 * library caches the first `require('@azure/functions-core')` result for the life of the process,
 * so this API object is a process-wide singleton; registrations are routed to whichever app is
 * being loaded at the moment.
 */

export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';
export type LogCategory = 'user' | 'system' | 'customMetric';
export type FunctionCallback = (...args: unknown[]) => unknown;
export type HookCallback = (context: Record<string, unknown>) => unknown;

export interface RegisteredFunction {
  info: RegisteredFunctionInfo;
  callback: FunctionCallback;
}

/** Everything one app registered while it was loaded. */
export interface AppRegistry {
  functions: Map<string, RegisteredFunction>;
  hooks: Map<string, HookCallback[]>;
  appHookData: Record<string, unknown>;
  appLevelOnlyHookData: Record<string, unknown>;
  log(level: LogLevel, category: LogCategory, message: string, functionName?: string): void;
}

/** What `getInvocationModel` must return (checked at runtime: it comes from the app's library). */
export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<unknown>;
}
export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreContext: unknown): unknown;
}

/** The worker version this stand-in mimics (the library only checks that `log` exists). */
export const workerVersion = '3.10.1-local';
export const hostVersion = '4.1037.0-local';

const bindingSchema = z.looseObject({ type: z.string().min(1), direction: z.string().min(1) });
const metadataSchema = z.looseObject({
  name: z.string().min(1),
  functionId: z.string().optional(),
  bindings: z.record(z.string(), bindingSchema),
});

class Disposable {
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => {
      for (const item of items) item.dispose();
    });
  }
  #onDispose: (() => unknown) | undefined;
  constructor(onDispose: () => unknown) {
    this.#onDispose = onDispose;
  }
  dispose(): unknown {
    const onDispose = this.#onDispose;
    this.#onDispose = undefined;
    return onDispose?.();
  }
}

let loading: AppRegistry | undefined;
let lastLoaded: AppRegistry | undefined;
let programmingModel: ProgrammingModel | undefined;

function isProgrammingModel(value: unknown): value is ProgrammingModel {
  return hasMethods(value, ['getInvocationModel']) && typeof Reflect.get(value, 'name') === 'string';
}

function target(what: string): AppRegistry {
  const registry = loading ?? lastLoaded;
  if (registry === undefined) throw new Error(`${what}: no Functions app is being loaded by the local host.`);
  return registry;
}

const coreApi = {
  version: workerVersion,
  hostVersion,
  Disposable,
  registerFunction(metadata: unknown, callback: unknown): Disposable {
    const registry = loading;
    if (registry === undefined) throw new Error('A function can only be registered during app startup.');
    const parsed = metadataSchema.parse(metadata);
    if (typeof callback !== 'function') throw new Error(`Function "${parsed.name}" was registered without a handler.`);
    if (registry.functions.has(parsed.name)) throw new Error(`Function "${parsed.name}" is registered twice.`);
    const handler = (...args: unknown[]): unknown => Reflect.apply(callback, undefined, args);
    registry.functions.set(parsed.name, { info: { name: parsed.name, bindings: parsed.bindings }, callback: handler });
    return new Disposable(() => {
      if (loading !== registry) throw new Error('A function can only be disposed during app startup.');
      registry.functions.delete(parsed.name);
    });
  },
  registerHook(hookName: unknown, callback: unknown): Disposable {
    if (typeof hookName !== 'string' || typeof callback !== 'function')
      throw new Error('registerHook(name, callback) expects a string and a function.');
    const registry = target(`registerHook("${hookName}")`);
    const hook: HookCallback = (context) => Reflect.apply(callback, undefined, [context]);
    const list = registry.hooks.get(hookName) ?? [];
    list.push(hook);
    registry.hooks.set(hookName, list);
    return new Disposable(() => {
      const index = list.indexOf(hook);
      if (index >= 0) list.splice(index, 1);
    });
  },
  setProgrammingModel(model: unknown): void {
    if (!isProgrammingModel(model)) throw new Error('setProgrammingModel expects an object with getInvocationModel().');
    programmingModel = model;
  },
  getProgrammingModel(): ProgrammingModel | undefined {
    return programmingModel;
  },
  log(level: unknown, category: unknown, message: unknown): void {
    const registry = loading ?? lastLoaded;
    registry?.log(parseLevel(level), category === 'user' ? 'user' : 'system', String(message));
  },
};

export function parseLevel(level: unknown): LogLevel {
  const levels: readonly LogLevel[] = ['trace', 'debug', 'information', 'warning', 'error', 'critical', 'none'];
  return levels.find((l) => l === level) ?? 'information';
}

let installed = false;

/** Makes `require('@azure/functions-core')` return the API above, as the worker does. */
export function installCoreModule(): void {
  if (installed) return;
  installed = true;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- the Proxy's Reflect.apply passes the module as `this`.
  Module.prototype.require = new Proxy(Module.prototype.require, {
    apply(original, thisArg, args: unknown[]) {
      if (args[0] === '@azure/functions-core') return coreApi;
      const result: unknown = Reflect.apply(original, thisArg, args);
      return result;
    },
  });
}

export function currentProgrammingModel(): ProgrammingModel {
  if (programmingModel === undefined) {
    throw new Error('The app never set a programming model: does it register functions with @azure/functions v4?');
  }
  return programmingModel;
}

export function isInvocationModel(value: unknown): value is InvocationModel {
  return hasMethods(value, ['getArguments', 'invokeFunction', 'getResponse']);
}

/** Routes registrations made while `load` runs to `registry`; only one app loads at a time. */
export async function loadInto(registry: AppRegistry, load: () => Promise<void>): Promise<void> {
  if (loading !== undefined) throw new Error('Another Functions app is being loaded in this process.');
  installCoreModule();
  loading = registry;
  try {
    await load();
  } finally {
    loading = undefined;
  }
  lastLoaded = registry;
}

/**
 * Like `loadInto`, but against an empty module cache: the app and its own copy of the library load
 * fresh (the worker's situation in a process that already imported them, e.g. in test mode), and
 * afterwards the caller's module instances, programming model and last-loaded app are restored.
 * Returns the programming model the fresh library set. CommonJS only: import() has no cache to reset.
 */
export async function loadIsolated(
  registry: AppRegistry,
  load: () => Promise<void>,
): Promise<ProgrammingModel | undefined> {
  const cache = require.cache;
  const savedCache = { ...cache };
  const saved = { programmingModel, lastLoaded };
  for (const id of Object.keys(cache)) Reflect.deleteProperty(cache, id);
  programmingModel = undefined;
  try {
    await loadInto(registry, load);
    return programmingModel;
  } finally {
    ({ programmingModel, lastLoaded } = saved);
    for (const id of Object.keys(cache)) Reflect.deleteProperty(cache, id);
    Object.assign(cache, savedCache);
  }
}

export function createRegistry(log: AppRegistry['log']): AppRegistry {
  return { functions: new Map(), hooks: new Map(), appHookData: {}, appLevelOnlyHookData: {}, log };
}

/** Runs the hooks registered under `name` in order, over a copy: a hook may dispose itself. */
export async function runHooks(registry: AppRegistry, name: string, context: Record<string, unknown>): Promise<void> {
  for (const hook of [...(registry.hooks.get(name) ?? [])]) await hook(context);
}

/** The context of appStart / appTerminate hooks: the app-level hook data, plus `fields`. */
export function appHookContext(registry: AppRegistry, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    get hookData() {
      return registry.appLevelOnlyHookData;
    },
    get appHookData() {
      return registry.appHookData;
    },
    ...fields,
  };
}
