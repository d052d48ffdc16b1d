import { randomBytes, randomUUID } from 'node:crypto';
import {
  currentProgrammingModel,
  isInvocationModel,
  parseLevel,
  type AppRegistry,
  type FunctionCallback,
  type RegisteredFunction,
} from './coreApi';
import type { TypedData } from './types';

/** Typed data as it travels in an invocation request (the HTTP trigger adds `http`). */
export type RpcTypedData = TypedData | { http: RpcHttpData } | { int: number } | { double: number };

export interface RpcNullableString {
  value: string;
}

export interface RpcHttpData {
  method: string;
  url: string;
  headers: Record<string, string>;
  nullableHeaders: Record<string, RpcNullableString>;
  query: Record<string, string>;
  nullableQuery: Record<string, RpcNullableString>;
  params: Record<string, string>;
  nullableParams: Record<string, RpcNullableString>;
  body?: RpcTypedData;
}

export interface InvocationRequest {
  inputData: { name: string; data: RpcTypedData }[];
  triggerMetadata: Record<string, RpcTypedData>;
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

async function runHooks(registry: AppRegistry, name: string, context: Record<string, unknown>): Promise<void> {
  for (const hook of [...(registry.hooks.get(name) ?? [])]) await hook(context);
}

function readOnly(name: string): never {
  throw new Error(`Cannot assign "${name}": it is a read-only property.`);
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
): Promise<InvocationResult> {
  const functionName = fn.info.name;
  const coreCtx: Record<string, unknown> = {
    invocationId,
    request: {
      invocationId,
      functionId: functionName,
      inputData: request.inputData,
      triggerMetadata: request.triggerMetadata,
      traceContext: {
        traceParent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00`,
        traceState: '',
        attributes: { OperationName: functionName },
      },
    },
    metadata: {
      name: functionName,
      functionId: functionName,
      bindings: fn.info.bindings,
      rawBindings: Object.entries(fn.info.bindings).map(([name, binding]) => JSON.stringify({ ...binding, name })),
      scriptFile: 'n/a',
    },
    state: undefined,
    log(level: unknown, category: unknown, message: unknown): void {
      registry.log(parseLevel(level), category === 'user' ? 'user' : 'system', String(message), functionName);
    },
  };

  const model: unknown = await currentProgrammingModel().getInvocationModel(coreCtx);
  if (!isInvocationModel(model)) throw new Error('The programming model returned an invalid invocation model.');
  const args = await model.getArguments();
  const hookData: Record<string, unknown> = {};
  const context = args.context;
  let inputs = args.inputs;
  let callback: FunctionCallback = fn.callback;

  const pre: Record<string, unknown> = {
    get hookData() {
      return hookData;
    },
    set hookData(_value) {
      readOnly('hookData');
    },
    get appHookData() {
      return registry.appHookData;
    },
    set appHookData(_value) {
      readOnly('appHookData');
    },
    get invocationContext() {
      return context;
    },
    set invocationContext(_value) {
      readOnly('invocationContext');
    },
    functionCallback: callback,
    inputs,
  };
  coreCtx.state = 'preInvocationHooks';
  try {
    await runHooks(registry, 'preInvocation', pre);
  } finally {
    coreCtx.state = undefined;
  }
  if (Array.isArray(pre.inputs)) inputs = pre.inputs;
  const replaced = pre.functionCallback;
  if (typeof replaced === 'function') callback = (...a: unknown[]): unknown => Reflect.apply(replaced, undefined, a);

  const post: Record<string, unknown> = {
    get hookData() {
      return hookData;
    },
    set hookData(_value) {
      readOnly('hookData');
    },
    get appHookData() {
      return registry.appHookData;
    },
    set appHookData(_value) {
      readOnly('appHookData');
    },
    get invocationContext() {
      return context;
    },
    set invocationContext(_value) {
      readOnly('invocationContext');
    },
    inputs,
    result: null,
    error: null,
  };
  coreCtx.state = 'invocation';
  try {
    post.result = await model.invokeFunction(context, inputs, callback);
  } catch (error) {
    post.error = error;
  } finally {
    coreCtx.state = undefined;
  }
  coreCtx.state = 'postInvocationHooks';
  try {
    await runHooks(registry, 'postInvocation', post);
  } finally {
    coreCtx.state = undefined;
  }
  const failure = errorOf(post.error);
  if (failure !== undefined) throw failure;

  const response: unknown = await model.getResponse(context, post.result);
  if (typeof response !== 'object' || response === null)
    return { invocationId, returnValue: undefined, outputData: [] };
  return {
    invocationId,
    returnValue: 'returnValue' in response ? response.returnValue : undefined,
    outputData: 'outputData' in response ? response.outputData : [],
  };
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
