import { z } from 'zod';

/**
 * What an orchestrator invocation returns: the library's OrchestratorState (lib/src/orchestrations),
 * serialized to JSON by the worker. Actions are the library's ActionType numbers.
 */

const retryOptions = z.object({
  firstRetryIntervalInMilliseconds: z.number().positive(),
  maxNumberOfAttempts: z.number().int(),
  backoffCoefficient: z.number().positive().optional(),
  maxRetryIntervalInMilliseconds: z.number().positive().optional(),
});
export type RetryPolicy = z.infer<typeof retryOptions>;

const atomicAction = z.discriminatedUnion('actionType', [
  z.object({ actionType: z.literal(0), functionName: z.string(), input: z.unknown().optional() }),
  z.object({ actionType: z.literal(1), functionName: z.string(), input: z.unknown().optional(), retryOptions }),
  z.object({
    actionType: z.literal(2),
    functionName: z.string(),
    instanceId: z.string().optional(),
    input: z.unknown().optional(),
  }),
  z.object({ actionType: z.literal(3), functionName: z.string() }),
  z.object({ actionType: z.literal(4), input: z.unknown().optional() }),
  z.object({ actionType: z.literal(5), fireAt: z.iso.datetime({ offset: true }), isCanceled: z.boolean().optional() }),
  z.object({ actionType: z.literal(6), externalEventName: z.string() }),
  z.object({ actionType: z.literal(7), instanceId: z.string(), operation: z.string(), input: z.unknown().optional() }),
  z.object({ actionType: z.literal(8) }),
  z.object({ actionType: z.literal(9), instanceId: z.string(), operation: z.string(), input: z.unknown().optional() }),
  z.object({ actionType: z.literal(13) }),
  z.object({ actionType: z.literal(14) }),
]);
type AtomicAction = z.infer<typeof atomicAction>;

/** The actions this backend understands, with readable kinds instead of the wire numbers. */
export type OrchestratorAction =
  | { kind: 'callActivity'; functionName: string; input: unknown; retry: RetryPolicy | undefined }
  | { kind: 'callSubOrchestrator'; functionName: string; instanceId: string | undefined; input: unknown }
  | { kind: 'continueAsNew'; input: unknown }
  | { kind: 'createTimer'; fireAt: Date }
  | { kind: 'waitForExternalEvent'; name: string }
  | { kind: 'callEntity'; entity: string; operation: string; input: unknown }
  | { kind: 'signalEntity'; entity: string; operation: string; input: unknown }
  | { kind: 'unsupported'; what: string };

const compoundAction = z.object({
  actionType: z.union([z.literal(11), z.literal(12)]),
  compoundActions: z.array(z.unknown()),
});

const orchestratorState = z.object({
  isDone: z.boolean(),
  actions: z.array(z.unknown()),
  output: z.unknown().optional(),
  error: z.string().optional(),
  customStatus: z.unknown().optional(),
  schemaVersion: z.number().optional(),
});

export interface OrchestratorResult {
  isDone: boolean;
  /** Flattened in the order the library assigned sequence numbers (compound tasks depth-first). */
  actions: OrchestratorAction[];
  output: unknown;
  error: string | undefined;
  customStatus: unknown;
}

/**
 * The library sends activity and continue-as-new inputs through `Utils.processInput`, which
 * JSON-encodes strings; the extension decodes them again. Doing the same here gives the activity the
 * value the orchestrator passed.
 */
export function decodeProcessedInput(input: unknown): unknown {
  if (typeof input !== 'string') return input;
  try {
    const decoded: unknown = JSON.parse(input);
    return decoded;
  } catch {
    return input;
  }
}

function toAction(action: AtomicAction): OrchestratorAction {
  switch (action.actionType) {
    case 0:
      return {
        kind: 'callActivity',
        functionName: action.functionName,
        input: decodeProcessedInput(action.input),
        retry: undefined,
      };
    case 1:
      return {
        kind: 'callActivity',
        functionName: action.functionName,
        input: decodeProcessedInput(action.input),
        retry: action.retryOptions,
      };
    case 2:
      return {
        kind: 'callSubOrchestrator',
        functionName: action.functionName,
        instanceId: action.instanceId,
        input: action.input,
      };
    case 3:
      return { kind: 'unsupported', what: `callSubOrchestratorWithRetry('${action.functionName}')` };
    case 4:
      return { kind: 'continueAsNew', input: decodeProcessedInput(action.input) };
    case 5:
      return { kind: 'createTimer', fireAt: new Date(action.fireAt) };
    case 6:
      return { kind: 'waitForExternalEvent', name: action.externalEventName };
    case 7:
      return { kind: 'callEntity', entity: action.instanceId, operation: action.operation, input: action.input };
    case 8:
      return { kind: 'unsupported', what: 'callHttp' };
    case 9:
      return { kind: 'signalEntity', entity: action.instanceId, operation: action.operation, input: action.input };
    case 13:
      return { kind: 'unsupported', what: 'lock (critical sections)' };
    case 14:
      return { kind: 'unsupported', what: 'lock release' };
    default: {
      const unreachable: never = action;
      return unreachable;
    }
  }
}

function flatten(raw: unknown, into: OrchestratorAction[]): void {
  if (Array.isArray(raw)) {
    for (const item of raw) flatten(item, into);
    return;
  }
  const compound = compoundAction.safeParse(raw);
  if (compound.success) {
    for (const child of compound.data.compoundActions) flatten(child, into);
    return;
  }
  const atomic = atomicAction.safeParse(raw);
  if (!atomic.success) {
    throw new Error(`Unrecognized orchestrator action ${JSON.stringify(raw)}: ${atomic.error.message}`);
  }
  into.push(toAction(atomic.data));
}

export function parseOrchestratorResult(raw: unknown): OrchestratorResult {
  const state = orchestratorState.parse(raw);
  const actions: OrchestratorAction[] = [];
  flatten(state.actions, actions);
  return { isDone: state.isDone, actions, output: state.output, error: state.error, customStatus: state.customStatus };
}

const failureLabel = '\n\n$OutOfProcData$:';

/**
 * A failed orchestrator throws OrchestrationFailureError: a prefix, a label, then the orchestrator
 * state as JSON whose `error` holds the exception message (the extension splits it the same way).
 * In durable-functions 3.5 the prefix is `String(orchestratorReturned)`, i.e. "false".
 */
export function parseOrchestratorFailure(error: unknown): { message: string; state: OrchestratorResult | undefined } {
  const text = error instanceof Error ? error.message : String(error);
  const at = text.indexOf(failureLabel);
  if (at < 0) return { message: text, state: undefined };
  const message = text.slice(0, at);
  try {
    const parsed: unknown = JSON.parse(text.slice(at + failureLabel.length));
    const state = parseOrchestratorResult(parsed);
    return { message: state.error ?? message, state };
  } catch {
    return { message, state: undefined };
  }
}
