import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';
import { fulfillmentStarterFor } from '../adapters/durableFulfillment';
import type { FulfillmentStarter, OrderStore, QuarantineStore } from '../adapters/ports';
import type { OrderCache } from '../adapters/orderCache';
import { getConfig, settingNames } from '../config';
import { orderCache, orderStore, now, quarantineStore } from '../dependencies';
import { liveMetrics, orderProgress } from '../consoleDependencies';
import type { OrderProgressSink } from '../adapters/consoleProjection';
import { activeTraceId, contextOfInvocation, traced } from '../telemetry/tracing';
import { errorText, failureLine } from '../errors';
import {
  applyOrderEvent,
  convoyMessage,
  outcomeLine,
  publishToAppliedMs,
  type MessageFacts,
} from '../application/applyOrderEvent';
import { annotateSpan } from '../application/traceAttributes';
import {
  defaultRetrySchedule,
  holdAndRetry,
  systemClock,
  type RetryClock,
  type RetrySchedule,
} from '../application/holdAndRetry';

export { decodeBody, type MessageFacts } from '../application/applyOrderEvent';

/**
 * The convoy's consumer: one message of one basket session at a time, through the convoy core
 * (./convoy/applyOrderEvent, shared with the operator's replay). Permanent failures are recorded
 * (order's rejected log, or quarantine) and the message completes; transient ones (storage, ETag
 * conflict, durable client) are retried while the invocation holds the message (./convoy/holdAndRetry),
 * then thrown, so the message is abandoned and redelivered first in its session, keeping the order.
 */

export const processOrderEventName = 'processOrderEvent';

export interface ProcessOrderEventDeps {
  orderStore: () => OrderStore;
  /** Records and ETags this instance last saw (adapters/orderCache.ts); absent = read every event. */
  orderCache?: () => OrderCache;
  quarantineStore: () => QuarantineStore;
  fulfillmentStarterFor: (context: InvocationContext) => FulfillmentStarter;
  now: () => Date;
  maxParkedEvents: () => number;
  /** Retry schedule for transient failures; absent = throw on the first one. */
  transientRetry?: () => RetrySchedule;
  clock?: RetryClock;
  /** The console's in-flight index and live counts; absent = nobody listens. */
  progress?: () => OrderProgressSink;
  /** Counts a call holding its message through a transient failure; returns the end of the hold. */
  callHeld?: () => () => void;
}

// The host sends 64-bit numbers as number, string or (via protobuf) a Long; any is accepted.
const longSchema = z.union([
  z.number().int().min(0),
  z.bigint().min(0n),
  z.string().regex(/^\d+$/),
  z
    .object({ low: z.number().int(), high: z.number().int() })
    .transform(({ low, high }) => (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0)),
]);

/**
 * A number as JSON.parse can give it: also ±Infinity ("1e309" overflows) and -0, which z.number()
 * refuses or JSON.stringify mangles (Infinity → "null").
 */
const parsedNumberSchema = z.custom<number>((value) => typeof value === 'number' && !Number.isNaN(value));

/** Text for a number the library parsed out of an id: "1.5", "-0", "Infinity". */
function parsedNumberText(value: number): string {
  if (Object.is(value, -0)) return '-0';
  return Number.isFinite(value) ? JSON.stringify(value) : String(value);
}

/**
 * The library JSON-parses every string it is handed, so a session or message id that looks like JSON
 * ("1001", "true", "1.50", "1e309") arrives as a number, boolean or null: it is turned back into text
 * for logs and records, and the parsed session id is kept too, because only it can be compared with
 * the body's basketId ("1.50" → 1.5 → "1.5" would not match; see domain/inbound basketMatchesSession).
 */
const idSchema = z.union([
  z.string().min(1),
  parsedNumberSchema.transform(parsedNumberText),
  z.boolean().transform(String),
]);

/** Every field is optional and never fails the parse: missing facts must not turn a message into a poison loop. */
const triggerMetadataSchema = z.object({
  sessionId: idSchema.optional().catch(undefined),
  messageId: idSchema.optional().catch(undefined),
  deliveryCount: longSchema.transform(Number).optional().catch(undefined),
  sequenceNumber: longSchema.transform(String).optional().catch(undefined),
  enqueuedTimeUtc: z
    .union([z.string(), z.date().transform((date) => date.toISOString())])
    .optional()
    .catch(undefined),
});

const parsedSessionIdSchema = z.object({ sessionId: z.union([parsedNumberSchema, z.boolean(), z.null()]) });
/** Session id text "[1]" or "{}" arrives as an array or object: no basketId parses to one, so it never matches. */
const structuredSessionIdSchema = z.object({
  sessionId: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]),
});

function sessionIdOf(triggerMetadata: unknown): unknown {
  return typeof triggerMetadata === 'object' && triggerMetadata !== null && 'sessionId' in triggerMetadata
    ? triggerMetadata.sessionId
    : undefined;
}

export function parseTriggerMetadata(triggerMetadata: unknown): MessageFacts {
  const parsed = triggerMetadataSchema.safeParse(triggerMetadata ?? {});
  if (!parsed.success) return {};
  // The usual case, a session id handed over as text, needs neither parse below (a failed parse builds its error).
  if (typeof sessionIdOf(triggerMetadata) === 'string') return parsed.data;
  const session = parsedSessionIdSchema.safeParse(triggerMetadata);
  if (session.success) {
    const { sessionId } = session.data;
    const text = typeof sessionId === 'number' ? parsedNumberText(sessionId) : JSON.stringify(sessionId);
    return { ...parsed.data, sessionId: text, parsedSessionId: sessionId };
  }
  const structured = structuredSessionIdSchema.safeParse(triggerMetadata);
  if (structured.success) return { ...parsed.data, sessionId: JSON.stringify(structured.data.sessionId) };
  return parsed.data;
}

/** A ServiceBusQueueHandler whose promise tests can await. */
export type ProcessOrderEventHandler = (message: unknown, context: InvocationContext) => Promise<void>;

export function makeProcessOrderEvent(deps: ProcessOrderEventDeps): ProcessOrderEventHandler {
  return async (message: unknown, context: InvocationContext): Promise<void> => {
    const trace = activeTraceId(contextOfInvocation(context.traceContext));
    const facts = { ...parseTriggerMetadata(context.triggerMetadata), traceId: trace };
    const convoy = convoyMessage(message, facts, context.invocationId, deps.now());
    annotateSpan(convoy);
    const apply = () =>
      applyOrderEvent({ ...deps, fulfillmentStarter: () => deps.fulfillmentStarterFor(context) }, convoy);
    const schedule = deps.transientRetry?.() ?? { ...defaultRetrySchedule, holdBudgetMs: 0 };
    let endHold: (() => void) | undefined;
    try {
      const outcome = await holdAndRetry(apply, schedule, deps.clock ?? systemClock, (retry) => {
        endHold ??= deps.callHeld?.();
        context.warn(
          `${processOrderEventName} outcome=held attempt=${String(retry.attempt)} retryInMs=${String(retry.delayMs)} heldMs=${String(retry.elapsedMs)} ${convoy.where}: ${errorText(retry.error)}`,
        );
      });
      const occurredAt = convoy.inbound.kind === 'event' ? convoy.inbound.event.occurredAt : undefined;
      const { level, line } = outcomeLine(outcome, convoy.where, publishToAppliedMs(facts, occurredAt, deps.now()));
      annotateSpan(convoy, outcome);
      context[level](`${processOrderEventName} ${line}`);
    } catch (error) {
      // Thrown, so the host abandons the message: a transient one after its hold, a bug at once.
      context.error(`${processOrderEventName} ${failureLine(error, convoy.where)}`);
      throw error;
    } finally {
      endHold?.();
    }
  };
}

// Runs in the trace the message carried: the host's span for the call is the parent (context.traceContext).
export const processOrderEvent = traced(
  makeProcessOrderEvent({
    orderStore,
    orderCache,
    quarantineStore,
    fulfillmentStarterFor,
    now,
    maxParkedEvents: () => getConfig().maxParkedEvents,
    transientRetry: () => ({ ...defaultRetrySchedule, holdBudgetMs: getConfig().transientHoldMs }),
    progress: orderProgress,
    callHeld: () => liveMetrics().callHeld(),
  }),
);

app.serviceBusQueue(processOrderEventName, {
  connection: settingNames.serviceBusConnection,
  queueName: `%${settingNames.orderEventsQueue}%`,
  isSessionsEnabled: true,
  cardinality: 'one',
  extraInputs: [df.input.durableClient()],
  handler: processOrderEvent,
});
