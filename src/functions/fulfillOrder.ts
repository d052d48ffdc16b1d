import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { z } from 'zod';
import { fulfillOrderOrchestration } from '../adapters/durableFulfillment';
import type { EventPublisher } from '../adapters/ports';
import { eventPublisher, now } from '../dependencies';
import {
  basketIdSchema,
  eventIdFor,
  inventoryUpdatedDataSchema,
  skuSchema,
  type EventEnvelope,
  type InventoryUpdatedData,
  type Shortage,
} from '../domain/events';
import { quantitiesBySku } from '../domain/order';
import { contextOfCarrier, contextOfInvocation, inSpan, SpanKind, traceCarrierSchema } from '../telemetry/tracing';
import { releaseResultSchema, reserveResultSchema } from '../domain/stock';
import { inventoryEntityId, inventoryOperations } from './inventory';

/**
 * The fulfillment of one paid basket: reserve every line through the SKU's `inventory` entity;
 * all reserved → InventoryUpdated {reserved}; otherwise release what was reserved and publish
 * InventoryUpdated {insufficient, shortages}. The event goes into the basket's own session with the
 * sequence after PaymentMade, so the convoy applies it in order like any other event. Once a
 * {reserved} event is published, every SKU is told to commit the basket's reservation.
 */

export const fulfillOrderName = fulfillOrderOrchestration;
export const publishInventoryUpdatedName = 'publishInventoryUpdated';

export const fulfillmentRequestSchema = z.strictObject({
  basketId: basketIdSchema,
  lines: z.array(z.strictObject({ sku: skuSchema, quantity: z.number().int().min(1) })),
  nextSequence: z.number().int().min(1),
  /** The trace of the call that started it (absent in instances started before tracing). */
  trace: traceCarrierSchema.optional(),
});

export const publishInventoryUpdatedInputSchema = z.strictObject({
  basketId: basketIdSchema,
  sequence: z.number().int().min(1),
  data: inventoryUpdatedDataSchema,
  trace: traceCarrierSchema.optional(),
});
export type PublishInventoryUpdatedInput = z.infer<typeof publishInventoryUpdatedInputSchema>;

// Built once: the orchestrator replays on every episode, and building a zod schema costs more than using it.
const reserveResultsSchema = z.array(reserveResultSchema);
const releaseResultsSchema = z.array(releaseResultSchema);

/**
 * Publishing is retried by the orchestration with backoff (2 s, 4 s, ... capped at 60 s) for about a
 * day (1,500 attempts). No later message of the basket would restart a failed fulfillment — the
 * InventoryUpdated it is waiting for is exactly what failed to publish — so the orchestration rides
 * out any broker outage shorter than that; a longer one fails the instance, and the order stays Paid
 * with its stock reserved until an operator restarts `fulfill-<basketId>`.
 */
export const publishRetry = Object.assign(new df.RetryOptions(2_000, 1_500), {
  backoffCoefficient: 2,
  maxRetryIntervalInMilliseconds: 60_000,
});

export function* fulfillOrderOrchestrator(context: OrchestrationContext): ReturnType<OrchestrationHandler> {
  const request = fulfillmentRequestSchema.parse(context.df.getInput());
  // One reservation per SKU: the entity's reserve is idempotent per basket, so two lines of one SKU must be one call.
  const wanted = quantitiesBySku(request.lines);

  // Reserve all SKUs in parallel: each entity serializes its own operations.
  const replies: unknown =
    wanted.length === 0
      ? []
      : yield context.df.Task.all(
          wanted.map((line) =>
            context.df.callEntity(inventoryEntityId(line.sku), inventoryOperations.reserve, {
              basketId: request.basketId,
              quantity: line.quantity,
            }),
          ),
        );
  const results = reserveResultsSchema.parse(replies);
  if (results.length !== wanted.length) {
    throw new Error(`Expected ${String(wanted.length)} reservation replies, got ${String(results.length)}.`);
  }

  const shortages: Shortage[] = [];
  const reserved: string[] = [];
  results.forEach((result, index) => {
    const line = wanted[index];
    if (line === undefined) return;
    if (result.reserved) reserved.push(line.sku);
    else shortages.push({ sku: line.sku, requested: line.quantity, available: result.available });
  });

  let data: InventoryUpdatedData;
  if (shortages.length === 0) {
    data = { outcome: 'reserved' };
  } else {
    if (reserved.length > 0) {
      const released: unknown = yield context.df.Task.all(
        reserved.map((sku) =>
          context.df.callEntity(inventoryEntityId(sku), inventoryOperations.release, { basketId: request.basketId }),
        ),
      );
      releaseResultsSchema.parse(released);
    }
    data = { outcome: 'insufficient', shortages };
  }

  const input: PublishInventoryUpdatedInput = {
    basketId: request.basketId,
    sequence: request.nextSequence,
    data,
    ...(request.trace && { trace: request.trace }),
  };
  yield context.df.callActivityWithRetry(publishInventoryUpdatedName, publishRetry, input);

  // Only now is the sale final: each SKU drops the basket's reservation (keeping the stock deducted)
  // so its state stays bounded. Signals, not calls: nothing here needs the answer, the messages are
  // committed with this episode, and commit is idempotent.
  if (data.outcome === 'reserved') {
    for (const line of wanted) {
      context.df.signalEntity(inventoryEntityId(line.sku), inventoryOperations.commit, { basketId: request.basketId });
    }
  }
  return data;
}

export interface PublishInventoryUpdatedDeps {
  publisher: () => EventPublisher;
  now: () => Date;
}

export function makePublishInventoryUpdated(deps: PublishInventoryUpdatedDeps) {
  return async (input: unknown, context: InvocationContext): Promise<string> => {
    const { basketId, sequence, data, trace } = publishInventoryUpdatedInputSchema.parse(input);
    // The orchestration's trace (from its input), else the host's span for this activity call.
    const parent = trace === undefined ? contextOfInvocation(context.traceContext) : contextOfCarrier(trace);
    const attributes = { 'convoy.basket_id': basketId, 'convoy.event.sequence': sequence };
    return inSpan(publishInventoryUpdatedName, { kind: SpanKind.INTERNAL, parent, attributes }, async () => {
      const event = inventoryUpdatedEvent(basketId, sequence, data, deps.now());
      // A retried activity re-sends the same message id: the queue's duplicate detection and the
      // order's idempotency (sequence ≤ last applied) both absorb it.
      await deps.publisher().publish([{ event }], parent);
      context.log(`publishInventoryUpdated: basket ${basketId} sequence ${String(sequence)} outcome ${data.outcome}.`);
      return event.eventId;
    });
  };
}

function inventoryUpdatedEvent(
  basketId: string,
  sequence: number,
  data: InventoryUpdatedData,
  at: Date,
): EventEnvelope {
  return {
    basketId,
    sequence,
    eventId: eventIdFor(basketId, sequence),
    type: 'InventoryUpdated',
    occurredAt: at.toISOString(),
    data,
  };
}

export const publishInventoryUpdated = makePublishInventoryUpdated({ publisher: eventPublisher, now });

df.app.orchestration(fulfillOrderName, fulfillOrderOrchestrator);
df.app.activity(publishInventoryUpdatedName, { handler: publishInventoryUpdated });
