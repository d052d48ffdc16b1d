import type { OrderCache } from '../adapters/orderCache';
import {
  ConcurrencyConflictError,
  PermanentStoreError,
  RecordTooLargeError,
  type FulfillmentStarter,
  type OrderStore,
  type QuarantineStore,
  type StoredOrder,
} from '../adapters/ports';
import { inSpan, SpanKind } from '../telemetry/tracing';
import { receive, rejectInvalid, requiredEffects, type ConvoyResult, type InvalidEvent } from '../domain/convoy';
import { classifyMessage, type InboundMessage, type ParsedSessionId } from '../domain/inbound';
import type { Delivery, OrderRecord, QuarantinedMessage } from '../domain/orderRecord';
import type { OrderProgressSink } from '../adapters/consoleProjection';

/**
 * The convoy's core, shared by the session trigger and the operator's replay so both run exactly
 * the same code: classify → load → decide → save (ETag-guarded) → act on what the state requires.
 * Permanent failures are recorded (the order's rejected log, or quarantine) and reported as an
 * outcome; transient ones (storage, ETag conflict, durable client) throw, and the caller keeps the
 * message (the trigger abandons it; replay leaves it in the dead-letter queue).
 */

export interface ApplyOrderEventDeps {
  orderStore: () => OrderStore;
  quarantineStore: () => QuarantineStore;
  fulfillmentStarter: () => FulfillmentStarter;
  now: () => Date;
  maxParkedEvents: () => number;
  /** The records this instance last saw, to save without reading first; absent = read every time. */
  orderCache?: () => OrderCache;
  /** Told after every saved step (the console's in-flight index and live counts); absent = nobody listens. */
  progress?: () => OrderProgressSink;
}

/** What the broker says about a message, however it was received (trigger metadata, or the SDK). */
export interface MessageFacts {
  sessionId?: string | undefined;
  /** Set when the Functions library handed the session id over JSON-parsed (see domain/inbound). */
  parsedSessionId?: ParsedSessionId | undefined;
  messageId?: string | undefined;
  deliveryCount?: number | undefined;
  /** The broker's 64-bit sequence number, as decimal text. */
  sequenceNumber?: string | undefined;
  enqueuedTimeUtc?: string | undefined;
  /** The trace id of the receiving call (its active span), recorded with what the message applies. */
  traceId?: string | undefined;
}

/** The body as a receiver hands it over: already-parsed JSON, a string, or bytes. */
export function decodeBody(message: unknown): { value: unknown; text: string } {
  if (message instanceof Uint8Array) return fromText(new TextDecoder().decode(message));
  if (typeof message === 'string') return fromText(message);
  if (message === undefined || message === null) return { value: message, text: String(message) };
  return { value: message, text: JSON.stringify(message) };
}

function fromText(text: string): { value: unknown; text: string } {
  try {
    const value: unknown = JSON.parse(text);
    return { value, text };
  } catch {
    return { value: text, text };
  }
}

/** One message, decoded and classified, ready to apply; `where` names it in log lines and answers. */
export interface ConvoyMessage {
  inbound: InboundMessage;
  delivery: Delivery;
  bodyText: string;
  facts: MessageFacts;
  where: string;
}

/** `fallbackMessageId` stands in when the broker gave no message id (the invocation id, say). */
export function convoyMessage(
  body: unknown,
  facts: MessageFacts,
  fallbackMessageId: string,
  receivedAt: Date,
): ConvoyMessage {
  const delivery: Delivery = {
    messageId: facts.messageId ?? fallbackMessageId,
    deliveryCount: facts.deliveryCount ?? 0,
    serviceSequenceNumber: facts.sequenceNumber ?? 'unknown',
    receivedAt: receivedAt.toISOString(),
    ...(facts.traceId === undefined ? {} : { traceId: facts.traceId }),
  };
  const decoded = decodeBody(body);
  const inbound = classifyMessage(decoded.value, facts.sessionId, facts.messageId, facts.parsedSessionId);
  return { inbound, delivery, bodyText: decoded.text, facts, where: describe(inbound, facts, delivery) };
}

export type ApplyOutcome =
  /** No order can own it (`unattributable`), or the order's record is out of reach (`unreadableOrder`). */
  | { kind: 'quarantined'; cause: 'unattributable' | 'unreadableOrder'; reason: string }
  | { kind: 'convoy'; result: ConvoyResult };

export async function applyOrderEvent(deps: ApplyOrderEventDeps, message: ConvoyMessage): Promise<ApplyOutcome> {
  const { inbound, delivery } = message;
  if (inbound.kind === 'unattributable') {
    await deps.quarantineStore().add(quarantined(inbound.reason, message));
    return { kind: 'quarantined', cause: 'unattributable', reason: inbound.reason };
  }
  let result: ConvoyResult;
  try {
    result = await advanceConvoy(deps, inbound, delivery);
  } catch (error) {
    // The order's record cannot be read, or not even its blocked form saved: the order's own log
    // is out of reach, so the message is kept in quarantine for an operator to replay.
    if (!(error instanceof PermanentStoreError)) throw error;
    await deps.quarantineStore().add(quarantined(error.message, message));
    return { kind: 'quarantined', cause: 'unreadableOrder', reason: error.message };
  }
  // After every message, duplicates included: a crash after the save heals on redelivery.
  for (const effect of requiredEffects(result.record)) {
    await deps.fulfillmentStarter().ensureStarted(effect.request, { paidInThisStep: paidInThisStep(result) });
  }
  return { kind: 'convoy', result };
}

/** While Paid only InventoryUpdated can apply, so a step that applied the last applied sequence applied PaymentMade. */
function paidInThisStep({ record, outcome }: ConvoyResult): boolean {
  return record.status === 'Paid' && outcome.kind === 'applied' && outcome.applied.includes(record.lastAppliedSequence);
}

/**
 * load → decide → save, guarded by the ETag read with the record. With an order cache, "load" is
 * first a guess: the record and ETag this instance last saw, or "no record yet" for a basket's
 * first event. The ETag check turns a wrong guess into a ConcurrencyConflictError; then the entry
 * is forgotten and the step runs again from a fresh read, so the outcome never depends on the cache.
 */
async function advanceConvoy(
  deps: ApplyOrderEventDeps,
  inbound: Exclude<InboundMessage, { kind: 'unattributable' }>,
  delivery: Delivery,
): Promise<ConvoyResult> {
  const store = deps.orderStore();
  const cache = deps.orderCache?.();
  const subject: InvalidEvent = inbound.kind === 'event' ? subjectOf(inbound.event) : inbound.invalid;
  const step = { deps, store, cache, inbound, delivery, subject };
  const guess = cache === undefined ? undefined : guessStored(cache, inbound, subject.basketId);
  try {
    if (guess !== undefined) {
      try {
        return await decideAndSave(step, guess.stored);
      } catch (error) {
        if (!(error instanceof ConcurrencyConflictError)) throw error;
      }
    }
    const read = await storeCall('load order', subject.basketId, () => store.get(subject.basketId));
    return await decideAndSave(step, read);
  } catch (error) {
    // The write may have landed or not: the next event of this basket reads.
    cache?.forget(subject.basketId);
    throw error;
  }
}

/** The cached record, or "none" for sequence 1 (a basket's first event creates its row); else read. */
function guessStored(
  cache: OrderCache,
  inbound: Exclude<InboundMessage, { kind: 'unattributable' }>,
  basketId: string,
): { stored: StoredOrder | undefined } | undefined {
  const cached = cache.get(basketId);
  if (cached !== undefined) return { stored: cached };
  return inbound.kind === 'event' && inbound.event.sequence === 1 ? { stored: undefined } : undefined;
}

interface Step {
  deps: ApplyOrderEventDeps;
  store: OrderStore;
  cache: OrderCache | undefined;
  inbound: Exclude<InboundMessage, { kind: 'unattributable' }>;
  delivery: Delivery;
  subject: InvalidEvent;
}

/**
 * decide → save. A record too large to store is permanent (retries would end in the dead-letter
 * queue): the order is blocked at this sequence instead, with the reason, and that much smaller
 * record is saved.
 */
async function decideAndSave(step: Step, stored: StoredOrder | undefined): Promise<ConvoyResult> {
  const { deps, store, cache, inbound, delivery, subject } = step;
  const limits = { maxParkedEvents: deps.maxParkedEvents() };
  const result =
    inbound.kind === 'event'
      ? receive(stored?.record, inbound.event, delivery, delivery.receivedAt, limits)
      : rejectInvalid(stored?.record, inbound.invalid, inbound.reason, delivery, delivery.receivedAt, limits);
  const saveAndTell = async (record: OrderRecord): Promise<void> => {
    const etag = await storeCall('save order', record.basketId, () =>
      stored === undefined ? store.create(record) : store.replace(record, stored.etag),
    );
    cache?.set(record.basketId, { record, etag });
    await deps.progress?.().saved(stored?.record, record, delivery);
  };
  try {
    await saveAndTell(result.record);
    return result;
  } catch (error) {
    if (!(error instanceof RecordTooLargeError)) throw error;
    const reason = `The order record could not be saved: ${error.message}`;
    const refused = rejectInvalid(stored?.record, subject, reason, delivery, delivery.receivedAt, limits);
    await saveAndTell(refused.record);
    return refused;
  }
}

function subjectOf(event: { basketId: string; sequence: number; type: string; eventId: string }): InvalidEvent {
  return { basketId: event.basketId, sequence: event.sequence, type: event.type, eventId: event.eventId };
}

/** A Table call as a span of the handler's trace (in Azure the SDK's own HTTP spans nest under it). */
function storeCall<T>(name: string, basketId: string, call: () => Promise<T>): Promise<T> {
  return inSpan(name, { kind: SpanKind.CLIENT, attributes: { 'convoy.basket_id': basketId } }, call);
}

function quarantined(reason: string, message: ConvoyMessage): QuarantinedMessage {
  const { facts, delivery } = message;
  return {
    messageId: delivery.messageId,
    ...(facts.sessionId === undefined ? {} : { sessionId: facts.sessionId }),
    reason,
    // Whole: the store cuts it to what its storage holds, with a marker.
    body: message.bodyText,
    deliveryCount: delivery.deliveryCount,
    serviceSequenceNumber: delivery.serviceSequenceNumber,
    quarantinedAt: delivery.receivedAt,
  };
}

/** The log line's subject: which basket and sequence (when known) and how the message arrived. */
function describe(inbound: InboundMessage, facts: MessageFacts, delivery: Delivery): string {
  const subject =
    inbound.kind === 'event'
      ? `basket=${inbound.event.basketId} sequence=${inbound.event.sequence} `
      : inbound.kind === 'invalidEvent'
        ? `basket=${inbound.invalid.basketId} sequence=${inbound.invalid.sequence} `
        : '';
  return `${subject}session=${facts.sessionId ?? '-'} messageId=${delivery.messageId} deliveryCount=${delivery.deliveryCount} serviceSequence=${delivery.serviceSequenceNumber} enqueued=${facts.enqueuedTimeUtc ?? '-'}`;
}

/**
 * Milliseconds from publish (the broker's enqueued time; the event's occurredAt without it) to `appliedAt`.
 * The host hands enqueuedTimeUtc over without a zone designator: it is UTC.
 */
export function publishToAppliedMs(
  facts: MessageFacts,
  occurredAt: string | undefined,
  appliedAt: Date,
): number | undefined {
  const enqueued = facts.enqueuedTimeUtc;
  const published =
    enqueued === undefined ? occurredAt : /(?:Z|[+-]\d\d:?\d\d)$/i.test(enqueued) ? enqueued : `${enqueued}Z`;
  const ms = published === undefined ? Number.NaN : appliedAt.getTime() - Date.parse(published);
  return Number.isFinite(ms) ? Math.max(0, Math.round(ms)) : undefined;
}

/** One line per outcome, as the trigger and the replay log it; `latencyMs` goes on the applied line. */
export function outcomeLine(
  outcome: ApplyOutcome,
  where: string,
  latencyMs?: number,
): { level: 'log' | 'warn' | 'error'; line: string } {
  if (outcome.kind === 'quarantined') {
    return {
      level: outcome.cause === 'unattributable' ? 'warn' : 'error',
      line: `outcome=quarantined ${where}: ${outcome.reason}`,
    };
  }
  const { record, outcome: convoy } = outcome.result;
  const line = `${where} status=${record.status}`;
  switch (convoy.kind) {
    case 'applied':
      return {
        level: 'log',
        line: `outcome=applied ${line} applied=${convoy.applied.join(',')}${latencyMs === undefined ? '' : ` latencyMs=${String(latencyMs)}`}`,
      };
    case 'parked':
      return { level: 'log', line: `outcome=parked ${line} waitingFor=${convoy.waitingFor}` };
    case 'duplicate':
      return { level: 'log', line: `outcome=duplicate ${line}: ${convoy.reason}` };
    case 'blocked':
      return { level: 'warn', line: `outcome=blocked ${line} applied=${convoy.applied.join(',')}: ${convoy.reason}` };
    case 'rejected':
      return { level: 'warn', line: `outcome=rejected ${line}: ${convoy.reason}` };
    default: {
      const unreachable: never = convoy;
      return unreachable;
    }
  }
}
