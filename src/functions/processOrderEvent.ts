import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';
import { fulfillmentStarterFor } from '../adapters/durableFulfillment';
import {
  PermanentStoreError,
  RecordTooLargeError,
  type FulfillmentStarter,
  type OrderStore,
  type QuarantineStore,
  type StoredOrder,
} from '../adapters/ports';
import { getConfig, settingNames } from '../config';
import { orderStore, now, quarantineStore } from '../dependencies';
import { receive, rejectInvalid, requiredEffects, type ConvoyResult, type InvalidEvent } from '../domain/convoy';
import { classifyMessage, type InboundMessage } from '../domain/inbound';
import type { Delivery, OrderRecord, QuarantinedMessage } from '../domain/orderRecord';

/**
 * The convoy's consumer: one message of one basket session at a time.
 * parse → load → decide (convoy) → save (ETag-guarded) → act on what the state requires → log.
 * Permanent failures are recorded (order's rejected log, or quarantine) and the message completes;
 * transient ones (storage, ETag conflict, durable client) throw, so the message is abandoned and
 * redelivered first in its session, keeping the order.
 */

export const processOrderEventName = 'processOrderEvent';

export interface ProcessOrderEventDeps {
  orderStore: () => OrderStore;
  quarantineStore: () => QuarantineStore;
  fulfillmentStarterFor: (context: InvocationContext) => FulfillmentStarter;
  now: () => Date;
  maxParkedEvents: () => number;
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
 * The library JSON-parses every string it is handed, so a session or message id that looks like JSON
 * ("1001", "true") arrives as a number or boolean: turn it back into text. Where that is lossy
 * ("1e3" → "1000") the session id no longer matches the body's basketId and the message is
 * quarantined with both ids, never attributed to the wrong basket.
 */
const idSchema = z.union([z.string().min(1), z.number().transform(String), z.boolean().transform(String)]);

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
export type MessageFacts = z.infer<typeof triggerMetadataSchema>;

export function parseTriggerMetadata(triggerMetadata: unknown): MessageFacts {
  const parsed = triggerMetadataSchema.safeParse(triggerMetadata ?? {});
  return parsed.success ? parsed.data : {};
}

/** The body as the library hands it over: already-parsed JSON, a string, or bytes. */
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

/** A ServiceBusQueueHandler whose promise tests can await. */
export type ProcessOrderEventHandler = (message: unknown, context: InvocationContext) => Promise<void>;

export function makeProcessOrderEvent(deps: ProcessOrderEventDeps): ProcessOrderEventHandler {
  return async (message: unknown, context: InvocationContext): Promise<void> => {
    const facts = parseTriggerMetadata(context.triggerMetadata);
    const delivery = deliveryOf(facts, context, deps.now());
    const body = decodeBody(message);
    const inbound = classifyMessage(body.value, facts.sessionId, facts.messageId);
    const where = describe(inbound, facts, delivery);
    try {
      if (inbound.kind === 'unattributable') {
        await deps.quarantineStore().add(quarantined(inbound.reason, body.text, facts, delivery));
        context.warn(`${processOrderEventName} outcome=quarantined ${where}: ${inbound.reason}`);
        return;
      }
      let result: ConvoyResult;
      try {
        result = await advanceConvoy(deps, inbound, delivery);
      } catch (error) {
        // The order's record cannot be read, or not even its blocked form saved: the order's own log
        // is out of reach, so the message is kept in quarantine for an operator to replay.
        if (!(error instanceof PermanentStoreError)) throw error;
        await deps.quarantineStore().add(quarantined(error.message, body.text, facts, delivery));
        context.error(`${processOrderEventName} outcome=quarantined ${where}: ${error.message}`);
        return;
      }
      // After every message, duplicates included: a crash after the save heals on redelivery.
      for (const effect of requiredEffects(result.record)) {
        await deps.fulfillmentStarterFor(context).ensureStarted(effect.request);
      }
      logOutcome(context, result, `${where} status=${result.record.status}`);
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      context.error(`${processOrderEventName} outcome=retry ${where}: ${reason}`);
      throw error;
    }
  };
}

/**
 * load → decide → save, guarded by the ETag read with the record. A record too large to store is
 * permanent (retries would end in the dead-letter queue): the order is blocked at this sequence
 * instead, with the reason, and that much smaller record is saved.
 */
async function advanceConvoy(
  deps: ProcessOrderEventDeps,
  inbound: Exclude<InboundMessage, { kind: 'unattributable' }>,
  delivery: Delivery,
): Promise<ConvoyResult> {
  const store = deps.orderStore();
  const subject: InvalidEvent = inbound.kind === 'event' ? subjectOf(inbound.event) : inbound.invalid;
  const stored = await store.get(subject.basketId);
  const limits = { maxParkedEvents: deps.maxParkedEvents() };
  const result =
    inbound.kind === 'event'
      ? receive(stored?.record, inbound.event, delivery, delivery.receivedAt, limits)
      : rejectInvalid(stored?.record, inbound.invalid, inbound.reason, delivery, delivery.receivedAt, limits);
  try {
    await save(store, stored, result.record);
    return result;
  } catch (error) {
    if (!(error instanceof RecordTooLargeError)) throw error;
    const reason = `The order record could not be saved: ${error.message}`;
    const refused = rejectInvalid(stored?.record, subject, reason, delivery, delivery.receivedAt, limits);
    await save(store, stored, refused.record);
    return refused;
  }
}

function subjectOf(event: { basketId: string; sequence: number; type: string; eventId: string }): InvalidEvent {
  return { basketId: event.basketId, sequence: event.sequence, type: event.type, eventId: event.eventId };
}

async function save(store: OrderStore, stored: StoredOrder | undefined, record: OrderRecord): Promise<void> {
  if (stored === undefined) await store.create(record);
  else await store.replace(record, stored.etag);
}

function deliveryOf(facts: MessageFacts, context: InvocationContext, receivedAt: Date): Delivery {
  return {
    messageId: facts.messageId ?? context.invocationId,
    deliveryCount: facts.deliveryCount ?? 0,
    serviceSequenceNumber: facts.sequenceNumber ?? 'unknown',
    receivedAt: receivedAt.toISOString(),
  };
}

function quarantined(reason: string, body: string, facts: MessageFacts, delivery: Delivery): QuarantinedMessage {
  return {
    messageId: delivery.messageId,
    ...(facts.sessionId === undefined ? {} : { sessionId: facts.sessionId }),
    reason,
    // Whole: the store cuts it to what its storage holds, with a marker.
    body,
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

function logOutcome(context: InvocationContext, result: ConvoyResult, line: string): void {
  const { outcome } = result;
  switch (outcome.kind) {
    case 'applied':
      context.log(`${processOrderEventName} outcome=applied ${line} applied=${outcome.applied.join(',')}`);
      return;
    case 'parked':
      context.log(`${processOrderEventName} outcome=parked ${line} waitingFor=${outcome.waitingFor}`);
      return;
    case 'duplicate':
      context.log(`${processOrderEventName} outcome=duplicate ${line}: ${outcome.reason}`);
      return;
    case 'blocked':
      context.warn(
        `${processOrderEventName} outcome=blocked ${line} applied=${outcome.applied.join(',')}: ${outcome.reason}`,
      );
      return;
    case 'rejected':
      context.warn(`${processOrderEventName} outcome=rejected ${line}: ${outcome.reason}`);
      return;
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
}

export const processOrderEvent = makeProcessOrderEvent({
  orderStore,
  quarantineStore,
  fulfillmentStarterFor,
  now,
  maxParkedEvents: () => getConfig().maxParkedEvents,
});

app.serviceBusQueue(processOrderEventName, {
  connection: settingNames.serviceBusConnection,
  queueName: `%${settingNames.orderEventsQueue}%`,
  isSessionsEnabled: true,
  cardinality: 'one',
  extraInputs: [df.input.durableClient()],
  handler: processOrderEvent,
});
