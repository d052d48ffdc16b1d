import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context as otelContext,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { z } from 'zod';
import { errorText } from '../errors';

/**
 * Trace context through the convoy (W3C). The Functions host hands every invocation its trace
 * context (`context.traceContext`: the host's span for the call, itself a child of the message's
 * `traceparent` / `Diagnostic-Id` for a Service Bus trigger, or of the request's `traceparent`
 * header for HTTP); the app continues it, stamps it on every message it sends, and carries it
 * through the durable orchestration's input. See docs/tracing.md.
 */

export const tracer = trace.getTracer('convoy');

/** The W3C pair as it travels in a message's properties or an orchestration's input. */
export const traceCarrierSchema = z.strictObject({
  traceparent: z.string().min(1).max(128),
  tracestate: z.string().max(512).optional(),
});
export type TraceCarrier = z.infer<typeof traceCarrierSchema>;

/** What `InvocationContext.traceContext` holds (all optional: the host may send empty strings). */
export interface InvocationTraceContext {
  traceParent?: string | null | undefined;
  traceState?: string | null | undefined;
}

/** The invocation's context as the host handed it over; the root context when it gave none. */
export function contextOfInvocation(traceContext: InvocationTraceContext | undefined): Context {
  const traceparent = traceContext?.traceParent ?? '';
  if (traceparent === '') return ROOT_CONTEXT;
  const tracestate = traceContext?.traceState ?? '';
  return propagation.extract(ROOT_CONTEXT, tracestate === '' ? { traceparent } : { traceparent, tracestate });
}

/** The context a carrier names (an orchestration input's `trace`), or the active one without it. */
export function contextOfCarrier(carrier: TraceCarrier | undefined): Context {
  return carrier === undefined ? otelContext.active() : propagation.extract(ROOT_CONTEXT, carrier);
}

/** The active context (or `from`) as a carrier; undefined when there is no valid span to continue. */
export function currentCarrier(from: Context = otelContext.active()): TraceCarrier | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(from, carrier);
  const parsed = traceCarrierSchema.safeParse(carrier);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The context work continues: the active one while a span is active in it, else `fallback`, the
 * context of the invocation (or message) that caused the work. A context manager keeps the active
 * context across awaits only when spans are exported (telemetry/setup.ts): with nothing exported,
 * the code that stamps the trace on what leaves the process names its invocation's context here.
 */
export function continuedContext(fallback: Context): Context {
  const active = otelContext.active();
  const spanContext = trace.getSpanContext(active);
  return spanContext !== undefined && trace.isSpanContextValid(spanContext) ? active : fallback;
}

/** The trace id of the active span, else of `fallback` (see continuedContext), when there is one. */
export function activeTraceId(fallback: Context = ROOT_CONTEXT): string | undefined {
  const spanContext = trace.getSpanContext(continuedContext(fallback));
  return spanContext !== undefined && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Default: the active context. */
  parent?: Context;
}

/**
 * Runs `work` inside a new active span that ends with it, recording a thrown error. `work` also gets
 * the context under that span, to stamp on what it sends: with nothing exported there is no context
 * manager to make it the active one, yet its (non-recording) span still carries the parent's trace.
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  work: (span: Span, underSpan: Context) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? otelContext.active();
  const spanOptions = {
    kind: options.kind ?? SpanKind.INTERNAL,
    ...(options.attributes ? { attributes: options.attributes } : {}),
  };
  return tracer.startActiveSpan(name, spanOptions, parent, async (span) => {
    try {
      return await work(span, trace.setSpan(parent, span));
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorText(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

export { SpanKind };

/** What the handler wrappers need of an InvocationContext. */
interface TracedInvocation {
  invocationId: string;
  functionName: string;
  traceContext?: InvocationTraceContext | undefined;
}

/**
 * A Functions handler run inside its own span, child of the host's span for the call
 * (`context.traceContext`), so everything it does — logs, storage calls, messages, the fulfillment
 * start — belongs to the trace that reached it.
 */
export function traced<A, C extends TracedInvocation, R>(
  handler: (arg: A, context: C) => Promise<R>,
  kind: SpanKind = SpanKind.INTERNAL,
): (arg: A, context: C) => Promise<R> {
  return (arg, context) =>
    inSpan(
      context.functionName,
      {
        kind,
        parent: contextOfInvocation(context.traceContext),
        attributes: { 'faas.name': context.functionName, 'faas.invocation_id': context.invocationId },
      },
      () => handler(arg, context),
    );
}
