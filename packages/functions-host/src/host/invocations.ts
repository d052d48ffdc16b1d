import { randomUUID } from 'node:crypto';
import type { AppRegistry, LogLevel, RegisteredFunction } from './coreApi';
import { invokeRegistered, type CallLogSink, type InvocationRequest } from './invoke';
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
    detail?: (returnValue: unknown, failed: boolean) => string | Promise<string>,
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
    const http = request.http ?? (data !== undefined && 'http' in data && 'url' in data.http ? data.http : undefined);
    const name = http === undefined ? functionName : `${http.method} ${new URL(http.url).pathname}`;
    return startHostSpan(
      name,
      SpanKind.SERVER,
      functionName,
      httpTraceCarrier(http === undefined ? undefined : { http }),
    );
  }
  return undefined;
}

/** The request's inputs plus a durable client for each durable client input the call doesn't carry. */
function withDurableClientInputs(
  inputData: InvocationRequest['inputData'],
  names: readonly string[],
  durableClientInput: () => TypedData | undefined,
): InvocationRequest['inputData'] {
  if (names.length === 0) return inputData;
  const filled = [...inputData];
  for (const name of names) {
    const clientInput = durableClientInput();
    if (clientInput !== undefined && !filled.some((i) => i.name === name)) filled.push({ name, data: clientInput });
  }
  return filled;
}

/** The call's event as it starts; `finishedEvent` stamps the end and the outcome. */
function startedEvent(
  functionName: string,
  invocationId: string,
  triggerType: string,
  facts: MessageFacts | undefined,
): InvocationEvent {
  const event: InvocationEvent = {
    functionName,
    invocationId,
    triggerType,
    startedAt: now(),
    endedAt: 0,
    durationMs: 0,
    outcome: 'succeeded',
  };
  if (facts?.sessionId !== undefined) event.sessionId = facts.sessionId;
  if (facts?.sequenceNumber !== undefined) event.sequenceNumber = facts.sequenceNumber;
  if (facts?.messageId !== undefined) event.messageId = facts.messageId;
  if (facts !== undefined) event.deliveryCount = facts.deliveryCount;
  return event;
}

function finishedEvent(started: InvocationEvent, outcome: InvocationEvent['outcome'], error?: string): InvocationEvent {
  const endedAt = now();
  const event: InvocationEvent = { ...started, endedAt, durationMs: endedAt - started.startedAt, outcome };
  if (error !== undefined) event.error = error;
  return event;
}

/** The request handed to the worker: the filled-in inputs and the host span's trace context, if any. */
function requestToSend(
  request: InvocationRequest,
  inputData: InvocationRequest['inputData'],
  span: HostSpan | undefined,
): InvocationRequest {
  if (span === undefined && inputData === request.inputData) return request;
  const traced = span === undefined ? {} : { traceContext: span.traceContext };
  return { ...request, inputData, ...traced };
}

/**
 * What the app says about the call at information level goes on the call's line (one line per call):
 * the returned sink keeps those messages in `said` and tells the caller it took them.
 */
function callDetailCollector(said: string[], logLevel: LogLevel): CallLogSink {
  return (level, category, message) => {
    if (!isCallDetail(level, category)) return false;
    if (shows(level, logLevel)) said.push(message);
    return true;
  };
}

/** Counts a finished call, writes its line and tells the listeners (a throwing listener is logged). */
function createRecorder(
  counters: HostStats['invocations'],
  listeners: ReadonlySet<(event: InvocationEvent) => void>,
  log: (line: string) => void,
  logLevel: LogLevel,
): (event: InvocationEvent, detail: string | undefined, said: readonly string[]) => void {
  return (event, detail, said) => {
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
  };
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
  const record = createRecorder(counters, listeners, log, logLevel);

  const run: Invocations['run'] = async (fn, request, facts, detail) => {
    const shape = shapeOf(fn);
    const inputData = withDurableClientInputs(request.inputData, shape.durableClientInputs, durableClientInput);
    const invocationId = request.invocationId ?? randomUUID();
    const started = startedEvent(fn.info.name, invocationId, shape.triggerType, facts);
    const span = hostSpanFor(fn.info.name, shape.triggerType, request, facts);
    const said: string[] = [];
    const collect = callDetailCollector(said, logLevel);
    counters.inFlight++;
    try {
      const sent = requestToSend(request, inputData, span);
      const result = await invokeRegistered(registry, fn, sent, invocationId, collect);
      counters.inFlight--;
      span?.end();
      const ended = finishedEvent(started, 'succeeded');
      record(ended, await detail?.(result.returnValue, false), said);
      return result.returnValue;
    } catch (error) {
      counters.inFlight--;
      const message = error instanceof Error ? error.message : String(error);
      span?.end(message);
      record(finishedEvent(started, 'failed', message), await detail?.(undefined, true), said);
      throw error;
    }
  };

  return {
    run,
    counters,
    onInvocation(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
