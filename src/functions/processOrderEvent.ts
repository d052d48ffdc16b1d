import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';
import { fulfillmentStarterFor } from '../adapters/durableFulfillment';
import type { FulfillmentStarter, OrderStore, QuarantineStore } from '../adapters/ports';
import { getConfig, settingNames } from '../config';
import { orderStore, now, quarantineStore } from '../dependencies';
import { receive, rejectInvalid, requiredEffects, type ConvoyResult } from '../domain/convoy';
import { classifyMessage } from '../domain/inbound';
import type { Delivery } from '../domain/orderRecord';

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

/** Quarantined bodies are cut to stay well inside a table property (32K UTF-16 characters). */
export const maxQuarantinedBodyChars = 16_000;

// The host sends 64-bit numbers as number, string or (via protobuf) a Long; any is accepted.
const longSchema = z.union([
  z.number().int().min(0),
  z.bigint().min(0n),
  z.string().regex(/^\d+$/),
  z
    .object({ low: z.number().int(), high: z.number().int() })
    .transform(({ low, high }) => (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0)),
]);

/** Every field is optional and never fails the parse: missing facts must not turn a message into a poison loop. */
const triggerMetadataSchema = z.object({
  sessionId: z.string().min(1).optional().catch(undefined),
  messageId: z.string().min(1).optional().catch(undefined),
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
    const receivedAt = deps.now().toISOString();
    const delivery: Delivery = {
      messageId: facts.messageId ?? context.invocationId,
      deliveryCount: facts.deliveryCount ?? 0,
      serviceSequenceNumber: facts.sequenceNumber ?? 'unknown',
      receivedAt,
    };
    const where = `session=${facts.sessionId ?? '-'} messageId=${delivery.messageId} deliveryCount=${delivery.deliveryCount} serviceSequence=${delivery.serviceSequenceNumber} enqueued=${facts.enqueuedTimeUtc ?? '-'}`;
    const body = decodeBody(message);
    const inbound = classifyMessage(body.value, facts.sessionId);

    try {
      if (inbound.kind === 'unattributable') {
        await deps.quarantineStore().add({
          messageId: delivery.messageId,
          ...(facts.sessionId === undefined ? {} : { sessionId: facts.sessionId }),
          reason: inbound.reason,
          body: body.text.slice(0, maxQuarantinedBodyChars),
          deliveryCount: delivery.deliveryCount,
          serviceSequenceNumber: delivery.serviceSequenceNumber,
          quarantinedAt: receivedAt,
        });
        context.warn(`${processOrderEventName} outcome=quarantined ${where}: ${inbound.reason}`);
        return;
      }

      const store = deps.orderStore();
      const basketId = inbound.kind === 'event' ? inbound.event.basketId : inbound.invalid.basketId;
      const sequence = inbound.kind === 'event' ? inbound.event.sequence : inbound.invalid.sequence;
      const stored = await store.get(basketId);
      const limits = { maxParkedEvents: deps.maxParkedEvents() };
      const result: ConvoyResult =
        inbound.kind === 'event'
          ? receive(stored?.record, inbound.event, delivery, receivedAt, limits)
          : rejectInvalid(stored?.record, inbound.invalid, inbound.reason, delivery, receivedAt, limits);
      if (stored === undefined) await store.create(result.record);
      else await store.replace(result.record, stored.etag);

      // After every message, duplicates included: a crash after the save above heals on redelivery.
      for (const effect of requiredEffects(result.record)) {
        await deps.fulfillmentStarterFor(context).ensureStarted(effect.request);
      }
      logOutcome(context, result, `basket=${basketId} sequence=${sequence} ${where} status=${result.record.status}`);
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      context.error(`${processOrderEventName} outcome=retry ${where}: ${reason}`);
      throw error;
    }
  };
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
