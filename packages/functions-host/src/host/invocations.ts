import { randomUUID } from 'node:crypto';
import type { AppRegistry, LogCategory, LogLevel, RegisteredFunction } from './coreApi';
import { invokeRegistered, type InvocationRequest } from './invoke';
import { invocationLine, isCallDetail, shows } from './log';
import { httpTraceCarrier, SpanKind, startHostSpan, type HostSpan } from './trace';
import type { MessageFacts } from './serviceBus/dispatch';
import { isDurableClientBinding, triggerOf } from './triggers';
import type { TypedData } from '../worker/contract';
import type { HostStats, InvocationEvent } from './types';

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

/**
 * The host's span for a call, as the Functions host has one (./trace.ts): the Service Bus SDK's
 * processing span for a message, ASP.NET Core's request span for HTTP; none for other triggers.
 */
function hostSpanFor(
  functionName: string,
  triggerType: string,
  request: InvocationRequest,
  facts: MessageFacts | undefined,
): HostSpan | undefined {
  const type = triggerType.toLowerCase();
  if (type === 'servicebustrigger' && facts !== undefined) {
    const name =
      facts.sessionId === undefined
        ? 'ServiceBusProcessor.ProcessMessage'
        : 'ServiceBusSessionProcessor.ProcessSessionMessage';
    return startHostSpan(name, SpanKind.CONSUMER, functionName, facts.trace);
  }
  if (type === 'httptrigger') {
    const data = request.inputData[0]?.data;
    const http = data !== undefined && 'http' in data ? data.http : undefined;
    const name = http === undefined ? functionName : `${http.method} ${new URL(http.url).pathname}`;
    return startHostSpan(name, SpanKind.SERVER, functionName, httpTraceCarrier(data));
  }
  return undefined;
}

export function createInvocations(
  registry: AppRegistry,
  log: (line: string) => void,
  durableClientInput: () => TypedData | undefined,
  /** Minimum level of the per-call lines (information) and of what the app logs. */
  logLevel: LogLevel = 'information',
): Invocations {
  const listeners = new Set<(event: InvocationEvent) => void>();
  const counters: HostStats['invocations'] = { total: 0, succeeded: 0, failed: 0, inFlight: 0, byFunction: {} };

  function record(event: InvocationEvent, detail: string | undefined, said: readonly string[]): void {
    counters.total++;
    counters[event.outcome]++;
    counters.byFunction[event.functionName] = (counters.byFunction[event.functionName] ?? 0) + 1;
    if (shows(event.outcome === 'failed' ? 'error' : 'information', logLevel)) log(invocationLine(event, detail, said));
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

    const span = hostSpanFor(fn.info.name, shape.triggerType, request, facts);
    // What the app says about the call at information level goes on the call's line (one line per call).
    const said: string[] = [];
    const collect = (level: LogLevel, category: LogCategory, message: string): boolean => {
      if (!isCallDetail(level, category)) return false;
      if (shows(level, logLevel)) said.push(message);
      return true;
    };
    counters.inFlight++;
    try {
      const unchanged = span === undefined && inputData === request.inputData;
      const traced = span === undefined ? {} : { traceContext: span.traceContext };
      const result = await invokeRegistered(
        registry,
        fn,
        unchanged ? request : { ...request, inputData, ...traced },
        invocationId,
        collect,
      );
      counters.inFlight--;
      span?.end();
      record(finish('succeeded'), detail?.(result.returnValue, false), said);
      return result.returnValue;
    } catch (error) {
      counters.inFlight--;
      const message = error instanceof Error ? error.message : String(error);
      span?.end(message);
      record(finish('failed', message), detail?.(undefined, true), said);
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
