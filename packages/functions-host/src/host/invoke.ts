import { randomUUID } from 'node:crypto';
import {
  isInvocationModel,
  parseLevel,
  programmingModelOf,
  runHooks,
  type AppRegistry,
  type FunctionCallback,
  type LogCategory,
  type LogLevel,
  type RegisteredFunction,
} from './coreApi';
import { randomHex, type HostTraceContext } from './trace';
import { triggerOf } from './triggers';
import type { InvokeFunction, RpcHttpData, RpcTypedData } from '../worker/contract';

// The RPC shapes are the worker contract's; re-exported for the host's HTTP listener.
export type { RpcHttpData, RpcNullableString, RpcTypedData } from '../worker/contract';

export interface InvocationRequest {
  inputData: { name: string; data: RpcTypedData }[];
  triggerMetadata: Record<string, RpcTypedData>;
  /** Set when the caller must know it beforehand (a request forwarded to the worker carries it). */
  invocationId?: string;
  /** The HTTP request the host's span describes when inputData carries none (HTTP streaming). */
  http?: RpcHttpData;
  /** The host's span for the call (./trace.ts); absent: a fresh unsampled context. */
  traceContext?: HostTraceContext;
}

export interface InvocationResult {
  invocationId: string;
  /** The response's `returnValue`, as produced by the library's getResponse (RPC typed data or undefined). */
  returnValue: unknown;
  outputData: unknown;
}

function errorOf(value: unknown): Error | undefined {
  if (value instanceof Error) return value;
  if (value === null || value === undefined) return undefined;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}

function readOnly(name: string): never {
  throw new Error(`Cannot assign "${name}": it is a read-only property.`);
}

/** A pre/postInvocation hook context: `readOnly` parts throw on assignment, `fields` are the hook's to change. */
function invocationHookContext(
  readOnlyParts: Record<string, unknown>,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  const hookContext: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(readOnlyParts)) {
    Object.defineProperty(hookContext, name, {
      get: () => value,
      set: () => readOnly(name),
      enumerable: true,
      configurable: true,
    });
  }
  return Object.assign(hookContext, fields);
}

/** The worker's function metadata is built once per function, not per invocation. */
const metadataByFunction = new WeakMap<RegisteredFunction, Record<string, unknown>>();
function functionMetadata(fn: RegisteredFunction): Record<string, unknown> {
  let metadata = metadataByFunction.get(fn);
  if (metadata === undefined) {
    metadata = {
      name: fn.info.name,
      functionId: fn.info.name,
      bindings: fn.info.bindings,
      rawBindings: Object.entries(fn.info.bindings).map(([name, binding]) => JSON.stringify({ ...binding, name })),
      scriptFile: 'n/a',
    };
    metadataByFunction.set(fn, metadata);
  }
  return metadata;
}

function hasHooks(registry: AppRegistry, name: string): boolean {
  return (registry.hooks.get(name)?.length ?? 0) > 0;
}

/** The library reads `state` to tell hook and handler logs apart. */
async function inState<T>(coreCtx: Record<string, unknown>, state: string, run: () => Promise<T>): Promise<T> {
  coreCtx.state = state;
  try {
    return await run();
  } finally {
    coreCtx.state = undefined;
  }
}

/** Takes the call's log lines it wants (returns true); the rest go to the registry's log. */
export type CallLogSink = (level: LogLevel, category: LogCategory, message: string) => boolean;

/** The core context the library's getInvocationModel reads, as the Node worker builds it. */
function coreContextFor(
  registry: AppRegistry,
  fn: RegisteredFunction,
  request: InvocationRequest,
  invocationId: string,
  collect: CallLogSink | undefined,
): Record<string, unknown> {
  const functionName = fn.info.name;
  return {
    invocationId,
    request: {
      invocationId,
      functionId: functionName,
      inputData: request.inputData,
      triggerMetadata: request.triggerMetadata,
      traceContext: request.traceContext ?? {
        traceParent: `00-${randomHex(16)}-${randomHex(8)}-00`,
        traceState: '',
        attributes: { OperationName: functionName },
      },
    },
    metadata: functionMetadata(fn),
    state: undefined,
    log(level: unknown, category: unknown, message: unknown): void {
      const parsed = parseLevel(level);
      const kind = category === 'user' ? 'user' : 'system';
      if (collect?.(parsed, kind, String(message)) === true) return;
      registry.log(parsed, kind, String(message), functionName);
    },
  };
}

/** What the invocation hooks share and may not reassign. */
type HookParts = Record<string, unknown>;
interface HandlerCall {
  inputs: unknown[];
  callback: FunctionCallback;
}

/** Runs the preInvocation hooks (if any); they may replace the inputs and the handler. */
async function runPreInvocationHooks(
  registry: AppRegistry,
  coreCtx: Record<string, unknown>,
  readOnlyParts: HookParts,
  call: HandlerCall,
): Promise<HandlerCall> {
  // No hook registered: no hook context can be seen, so none is built (it costs per call).
  if (!hasHooks(registry, 'preInvocation')) return call;
  const pre = invocationHookContext(readOnlyParts, { functionCallback: call.callback, inputs: call.inputs });
  await inState(coreCtx, 'preInvocationHooks', () => runHooks(registry, 'preInvocation', pre));
  const inputs = Array.isArray(pre.inputs) ? pre.inputs : call.inputs;
  const replaced = pre.functionCallback;
  if (typeof replaced !== 'function') return { inputs, callback: call.callback };
  return { inputs, callback: (...a: unknown[]): unknown => Reflect.apply(replaced, undefined, a) };
}

interface Outcome {
  result: unknown;
  error: unknown;
}

/** Runs the handler, then the postInvocation hooks (if any), which may replace its result or error. */
async function invokeWithPostHooks(
  registry: AppRegistry,
  coreCtx: Record<string, unknown>,
  readOnlyParts: HookParts,
  run: () => Promise<unknown>,
  inputs: unknown[],
): Promise<Outcome> {
  const outcome: Outcome = { result: null, error: null };
  try {
    outcome.result = await inState(coreCtx, 'invocation', run);
  } catch (error) {
    outcome.error = error;
  }
  if (hasHooks(registry, 'postInvocation')) {
    const post = invocationHookContext(readOnlyParts, { inputs, ...outcome });
    await inState(coreCtx, 'postInvocationHooks', () => runHooks(registry, 'postInvocation', post));
    outcome.result = post.result;
    outcome.error = post.error;
  }
  return outcome;
}

function invocationResult(invocationId: string, response: unknown): InvocationResult {
  if (typeof response !== 'object' || response === null)
    return { invocationId, returnValue: undefined, outputData: [] };
  return {
    invocationId,
    returnValue: 'returnValue' in response ? response.returnValue : undefined,
    outputData: 'outputData' in response ? response.outputData : [],
  };
}

/**
 * One invocation, step for step as the Node worker's InvocationHandler runs it: getInvocationModel →
 * getArguments → preInvocation hooks → invokeFunction → postInvocation hooks → rethrow a handler
 * error → getResponse. `functionId` equals the function name, as it does for worker-indexed apps.
 */
export async function invokeRegistered(
  registry: AppRegistry,
  fn: RegisteredFunction,
  request: InvocationRequest,
  invocationId: string = randomUUID(),
  collect?: CallLogSink,
): Promise<InvocationResult> {
  const coreCtx = coreContextFor(registry, fn, request, invocationId, collect);
  const model: unknown = await programmingModelOf(registry).getInvocationModel(coreCtx);
  if (!isInvocationModel(model)) throw new Error('The programming model returned an invalid invocation model.');
  const args = await model.getArguments();
  const context = args.context;
  const readOnlyParts = { hookData: {}, appHookData: registry.appHookData, invocationContext: context };
  const { inputs, callback } = await runPreInvocationHooks(registry, coreCtx, readOnlyParts, {
    inputs: args.inputs,
    callback: fn.callback,
  });
  const run = (): Promise<unknown> => model.invokeFunction(context, inputs, callback);
  const outcome = await invokeWithPostHooks(registry, coreCtx, readOnlyParts, run, inputs);
  const failure = errorOf(outcome.error);
  if (failure !== undefined) throw failure;
  return invocationResult(invocationId, await model.getResponse(context, outcome.result));
}

/** Decodes a returned RPC typed data value: json → parsed, string → string, numbers, bytes → Buffer. */
export function decodeTypedData(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  if ('json' in value && typeof value.json === 'string') return JSON.parse(value.json);
  if ('string' in value && typeof value.string === 'string') return value.string;
  if ('int' in value && typeof value.int === 'number') return value.int;
  if ('double' in value && typeof value.double === 'number') return value.double;
  if ('bytes' in value && value.bytes instanceof Uint8Array) return Buffer.from(value.bytes);
  return undefined;
}

export function registeredFunction(registry: AppRegistry, name: string): RegisteredFunction {
  const fn = registry.functions.get(name);
  if (fn === undefined) throw new Error(`No function named "${name}" is registered.`);
  return fn;
}

/**
 * The InvokeFunction contract over a loaded app: `trigger` feeds the trigger binding, extra inputs go
 * by binding name; `run` performs the invocation and resolves to the response's returnValue.
 */
export function functionInvoker(
  registry: AppRegistry,
  run: (fn: RegisteredFunction, request: InvocationRequest) => Promise<unknown>,
): InvokeFunction {
  return async (functionName, trigger, options) => {
    const fn = registeredFunction(registry, functionName);
    const triggerBinding = triggerOf(fn.info.bindings);
    if (triggerBinding === undefined) throw new Error(`Function "${functionName}" has no trigger binding.`);
    const inputData: InvocationRequest['inputData'] = [{ name: triggerBinding.name, data: trigger }];
    for (const [name, data] of Object.entries(options?.extraInputs ?? {})) inputData.push({ name, data });
    return decodeTypedData(await run(fn, { inputData, triggerMetadata: options?.triggerMetadata ?? {} }));
  };
}
