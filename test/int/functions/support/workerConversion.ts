import { createRequire } from 'node:module';
import { z } from 'zod';
import {
  createRegistry,
  isInvocationModel,
  loadIsolated,
  type InvocationRequest,
  type ProgrammingModel,
} from '@convoy/functions-host';

/**
 * The @azure/functions library's OWN conversion of a host invocation request (RPC typed data,
 * PascalCase trigger metadata) into handler arguments — the step the Node worker runs before every
 * call. Loaded as a private module instance wired to a stub `@azure/functions-core`, because the
 * instance the app imports has already switched to test mode and keeps no programming model; the
 * stub is the local host's own core API.
 * Tests use it so the trigger metadata they hand the handler is what Azure would hand it, not a guess.
 */

/** Values and requests as the host serializes them for the worker. */
export type { InvocationRequest as RpcInvocation, RpcTypedData } from '@convoy/functions-host';

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

const argumentsSchema = z.object({
  context: z.object({ triggerMetadata: z.record(z.string(), z.unknown()).optional() }),
  inputs: z.array(z.unknown()),
});

const librarySchema = z.object({ app: z.object({ generic: z.custom<(name: string, options: unknown) => void>() }) });

let cached: Promise<ProgrammingModel> | undefined;

/** Loads a fresh @azure/functions through the local host's core API and returns the model it sets. */
async function loadProgrammingModel(): Promise<ProgrammingModel> {
  const model = await loadIsolated(
    createRegistry(() => undefined),
    () => {
      const library = librarySchema.parse(createRequire(__filename)('@azure/functions'));
      // Any registration makes the library hand its programming model to the core API.
      library.app.generic('conversionProbe', {
        trigger: { type: 'serviceBusTrigger', name: 'probe', direction: 'in' },
        handler: () => undefined,
      });
      return Promise.resolve();
    },
  );
  if (model === undefined) throw new Error('@azure/functions registered no programming model.');
  return model;
}

/** Runs the library's getArguments on an invocation request exactly as the worker builds it. */
export async function handlerArguments(
  functionName: string,
  bindings: Record<string, RpcBinding>,
  invocation: InvocationRequest,
): Promise<HandlerArguments> {
  const invocationId = `conv-${functionName}`;
  cached ??= loadProgrammingModel();
  const model = (await cached).getInvocationModel({
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
