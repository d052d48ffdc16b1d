import { randomFillSync } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace, type Span } from '@opentelemetry/api';
import type { RpcTypedData } from '../worker/contract';

/**
 * The trace context the Functions host hands each invocation, the way it builds it: the host sends
 * `Activity.Current` (WorkerFunctionInvoker: Traceparent = Activity.Current?.Id). For a Service Bus
 * trigger that is the Service Bus SDK's processing span (`ServiceBusSessionProcessor.ProcessSessionMessage`
 * or `ServiceBusProcessor.ProcessMessage`), whose parent is the message's `traceparent` property when
 * ActivitySource tracing is on (the host's OpenTelemetry mode turns it on), else its `Diagnostic-Id`
 * (Azure.Core MessagingClientDiagnostics.TryExtractTraceContext). For HTTP it is ASP.NET Core's request
 * span, child of the request's `traceparent` header. Other triggers get a fresh, unsampled context.
 *
 * The host's span is made with the process's OpenTelemetry API, so when the app registered a tracer
 * provider (TRACE_EXPORT) it is exported with the app's spans, as the real host exports its own in
 * OpenTelemetry mode; without one, the ids are made here.
 */

export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

export interface HostTraceContext {
  traceParent: string;
  traceState: string;
  attributes: Record<string, string>;
}

export interface HostSpan {
  traceContext: HostTraceContext;
  end(error?: string): void;
}

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
/** Asked per span: the app may register (or, on stop, drop) its provider after the host loaded this module. */
const hostTracer = () => trace.getTracer('local-functions-host');

/**
 * Random hex for trace ids, cut from one buffer refilled when used up: a randomBytes call per id
 * was a fifth of the invocation path's CPU.
 */
const randomPool = Buffer.alloc(4096);
let randomOffset = randomPool.length;
export function randomHex(bytes: number): string {
  if (randomOffset + bytes > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  const hex = randomPool.toString('hex', randomOffset, randomOffset + bytes);
  randomOffset += bytes;
  return hex;
}

/** The message's trace context as the .NET Service Bus SDK reads it: `traceparent` first, then `Diagnostic-Id`. */
export function messageTraceCarrier(properties: Record<string, unknown> | undefined): TraceCarrier | undefined {
  const traceparent = properties?.traceparent;
  if (typeof traceparent === 'string') {
    const tracestate = properties?.tracestate;
    return typeof tracestate === 'string' ? { traceparent, tracestate } : { traceparent };
  }
  const diagnosticId = properties?.['Diagnostic-Id'];
  return typeof diagnosticId === 'string' ? { traceparent: diagnosticId } : undefined;
}

/** The request's `traceparent` / `tracestate` headers. */
export function httpTraceCarrier(data: RpcTypedData | undefined): TraceCarrier | undefined {
  if (data === undefined || !('http' in data)) return undefined;
  const headers = data.http.headers;
  const traceparent = headers.traceparent;
  if (traceparent === undefined) return undefined;
  const tracestate = headers.tracestate;
  return tracestate === undefined ? { traceparent } : { traceparent, tracestate };
}

/** Starts the host's span for one call, child of `parent` (a new trace without one). */
export function startHostSpan(
  name: string,
  kind: SpanKind,
  functionName: string,
  parent: TraceCarrier | undefined,
): HostSpan {
  const parentContext = parent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, parent);
  const span: Span = hostTracer().startSpan(name, { kind, attributes: { 'faas.name': functionName } }, parentContext);
  const attributes = { OperationName: functionName };
  const recorded = span.spanContext();
  const traceContext: HostTraceContext = span.isRecording()
    ? {
        traceParent: `00-${recorded.traceId}-${recorded.spanId}-${recorded.traceFlags.toString(16).padStart(2, '0')}`,
        traceState: recorded.traceState?.serialize() ?? parent?.tracestate ?? '',
        attributes,
      }
    : { ...childOf(parent), attributes };
  return {
    traceContext,
    end(error) {
      if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
      span.end();
    },
  };
}

/** No tracer provider: a child id under a valid parent, or a fresh unsampled trace. */
function childOf(parent: TraceCarrier | undefined): { traceParent: string; traceState: string } {
  const match = parent === undefined ? null : traceparentPattern.exec(parent.traceparent);
  if (match === null) return { traceParent: `00-${randomHex(16)}-${randomHex(8)}-00`, traceState: '' };
  return {
    traceParent: `00-${match[1] ?? ''}-${randomHex(8)}-${match[3] ?? '00'}`,
    traceState: parent?.tracestate ?? '',
  };
}

export { SpanKind };
