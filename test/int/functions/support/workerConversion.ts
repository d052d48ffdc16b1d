import Module from 'node:module';
import { z } from 'zod';

/**
 * The @azure/functions library's OWN conversion of a host invocation request (RPC typed data,
 * PascalCase trigger metadata) into handler arguments — the step the Node worker runs before every
 * call. Loaded as a private module instance wired to a stub `@azure/functions-core`, because the
 * instance the app imports has already switched to test mode and keeps no programming model.
 * Tests use it so the trigger metadata they hand the handler is what Azure would hand it, not a guess.
 */

/** One value as the host serializes it for the worker. */
export type RpcTypedData = { string: string } | { json: string } | { bytes: Uint8Array } | { int: number };

export interface RpcInvocation {
  inputData: { name: string; data: RpcTypedData }[];
  triggerMetadata: Record<string, RpcTypedData>;
}

export interface RpcBinding {
  type: string;
  direction: 'in' | 'out';
  [key: string]: unknown;
}

export interface HandlerArguments {
  /** The trigger input (the message body as the handler receives it). */
  trigger: unknown;
  triggerMetadata: Record<string, unknown>;
}

interface InvocationModel {
  getArguments(): Promise<unknown>;
}
interface ProgrammingModel {
  getInvocationModel(coreContext: unknown): unknown;
}

function isProgrammingModel(value: unknown): value is ProgrammingModel {
  return (
    typeof value === 'object' &&
    value !== null &&
    'getInvocationModel' in value &&
    typeof value.getInvocationModel === 'function'
  );
}

function isInvocationModel(value: unknown): value is InvocationModel {
  return (
    typeof value === 'object' && value !== null && 'getArguments' in value && typeof value.getArguments === 'function'
  );
}

const argumentsSchema = z.object({
  context: z.object({ triggerMetadata: z.record(z.string(), z.unknown()).optional() }),
  inputs: z.array(z.unknown()),
});

const librarySchema = z.object({ app: z.object({ generic: z.custom<(name: string, options: unknown) => void>() }) });

let cached: ProgrammingModel | undefined;

/** Loads a fresh @azure/functions with a capturing core API and returns the model it registers. */
function programmingModel(): ProgrammingModel {
  if (cached !== undefined) return cached;
  let captured: unknown;
  const coreApi = {
    version: '3.10.1',
    hostVersion: '4.1037.0',
    registerFunction: () => ({ dispose: () => undefined }),
    registerHook: () => ({ dispose: () => undefined }),
    setProgrammingModel: (model: unknown) => {
      captured = model;
    },
    getProgrammingModel: () => captured,
    log: () => undefined,
  };
  const entry = require.resolve('@azure/functions');
  const previous = require.cache[entry];
  Reflect.deleteProperty(require.cache, entry);
  // Kept to be restored verbatim and only ever invoked with an explicit `this`.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const originalRequire = Module.prototype.require;
  Module.prototype.require = Object.assign(function (this: Module, id: string): unknown {
    return id === '@azure/functions-core' ? coreApi : originalRequire.call(this, id);
  }, originalRequire);
  try {
    const library = librarySchema.parse(originalRequire.call(module, entry));
    // Any registration makes the library hand its programming model to the core API.
    library.app.generic('conversionProbe', {
      trigger: { type: 'serviceBusTrigger', name: 'probe', direction: 'in' },
      handler: () => undefined,
    });
  } finally {
    Module.prototype.require = originalRequire;
    if (previous === undefined) Reflect.deleteProperty(require.cache, entry);
    else require.cache[entry] = previous;
  }
  if (!isProgrammingModel(captured)) throw new Error('@azure/functions registered no programming model.');
  cached = captured;
  return captured;
}

/** Runs the library's getArguments on an invocation request exactly as the worker builds it. */
export async function handlerArguments(
  functionName: string,
  bindings: Record<string, RpcBinding>,
  invocation: RpcInvocation,
): Promise<HandlerArguments> {
  const invocationId = `conv-${functionName}`;
  const model = programmingModel().getInvocationModel({
    invocationId,
    request: { invocationId, functionId: functionName, ...invocation },
    metadata: { name: functionName, bindings },
    state: undefined,
    log: () => undefined,
  });
  if (!isInvocationModel(model)) throw new Error('The programming model returned no invocation model.');
  const parsed = argumentsSchema.parse(await model.getArguments());
  return { trigger: parsed.inputs[0], triggerMetadata: parsed.context.triggerMetadata ?? {} };
}
