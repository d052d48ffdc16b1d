import { randomUUID } from 'node:crypto';
import type { AppRegistry, RegisteredFunction } from './coreApi';
import { invokeRegistered, type InvocationRequest } from './invoke';
import { invocationLine } from './log';
import type { MessageFacts } from './serviceBus/dispatch';
import { isDurableClientBinding, triggerOf } from './triggers';
import type { HostStats, InvocationEvent, TypedData } from './types';

export interface Invocations {
  /**
   * Runs one invocation: durable client inputs filled in, then the event, the counters and the log
   * line. Resolves to the response's returnValue; rejects with the handler's error.
   */
  run(
    fn: RegisteredFunction,
    request: InvocationRequest,
    facts?: MessageFacts,
    detail?: (returnValue: unknown, failed: boolean) => string,
  ): Promise<unknown>;
  counters: HostStats['invocations'];
  onInvocation(listener: (event: InvocationEvent) => void): () => void;
}

const now = (): number => performance.timeOrigin + performance.now();

/** What `run` needs from a function's bindings, worked out once per function instead of per call. */
interface FunctionShape {
  triggerType: string;
  durableClientInputs: string[];
}
const shapes = new WeakMap<RegisteredFunction, FunctionShape>();
function shapeOf(fn: RegisteredFunction): FunctionShape {
  let shape = shapes.get(fn);
  if (shape === undefined) {
    shape = {
      triggerType: triggerOf(fn.info.bindings)?.binding.type ?? 'unknown',
      durableClientInputs: Object.entries(fn.info.bindings)
        .filter(([, binding]) => isDurableClientBinding(binding))
        .map(([name]) => name),
    };
    shapes.set(fn, shape);
  }
  return shape;
}

export function createInvocations(
  registry: AppRegistry,
  log: (line: string) => void,
  durableClientInput: () => TypedData | undefined,
): Invocations {
  const listeners = new Set<(event: InvocationEvent) => void>();
  const counters: HostStats['invocations'] = { total: 0, succeeded: 0, failed: 0, inFlight: 0, byFunction: {} };

  function record(event: InvocationEvent, detail: string | undefined): void {
    counters.total++;
    counters[event.outcome]++;
    counters.byFunction[event.functionName] = (counters.byFunction[event.functionName] ?? 0) + 1;
    log(invocationLine(event, detail));
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        log(`an invocation listener threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  async function run(
    fn: RegisteredFunction,
    request: InvocationRequest,
    facts?: MessageFacts,
    detail?: (returnValue: unknown, failed: boolean) => string,
  ): Promise<unknown> {
    const shape = shapeOf(fn);
    let inputData = request.inputData;
    if (shape.durableClientInputs.length > 0) {
      inputData = [...request.inputData];
      for (const name of shape.durableClientInputs) {
        const clientInput = durableClientInput();
        if (clientInput !== undefined && !inputData.some((i) => i.name === name))
          inputData.push({ name, data: clientInput });
      }
    }
    const invocationId = randomUUID();
    const base: InvocationEvent = {
      functionName: fn.info.name,
      invocationId,
      triggerType: shape.triggerType,
      startedAt: now(),
      endedAt: 0,
      durationMs: 0,
      outcome: 'succeeded',
    };
    if (facts?.sessionId !== undefined) base.sessionId = facts.sessionId;
    if (facts?.sequenceNumber !== undefined) base.sequenceNumber = facts.sequenceNumber;
    if (facts?.messageId !== undefined) base.messageId = facts.messageId;
    if (facts !== undefined) base.deliveryCount = facts.deliveryCount;
    const finish = (outcome: InvocationEvent['outcome'], error?: string): InvocationEvent => {
      const endedAt = now();
      const event: InvocationEvent = { ...base, endedAt, durationMs: endedAt - base.startedAt, outcome };
      if (error !== undefined) event.error = error;
      return event;
    };

    counters.inFlight++;
    try {
      const result = await invokeRegistered(
        registry,
        fn,
        inputData === request.inputData ? request : { ...request, inputData },
        invocationId,
      );
      counters.inFlight--;
      record(finish('succeeded'), detail?.(result.returnValue, false));
      return result.returnValue;
    } catch (error) {
      counters.inFlight--;
      record(finish('failed', error instanceof Error ? error.message : String(error)), detail?.(undefined, true));
      throw error;
    }
  }

  return {
    run,
    counters,
    onInvocation(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
