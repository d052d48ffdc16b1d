import { z } from 'zod';
import { eventIdFor } from '../../../../src/domain/events';
import { orderStatuses } from '../../../../src/domain/orderRecord';

/** Bodies exactly as the producer puts them on the wire, and the GET /api/orders contract. */

export function wireEvent(basketId: string, sequence: number, type: string, data: unknown): Record<string, unknown> {
  return {
    basketId,
    sequence,
    eventId: eventIdFor(basketId, sequence),
    type,
    occurredAt: `2026-03-01T08:00:0${String(sequence % 10)}.000Z`,
    data,
  };
}

/** 2 × SKU-1 at 9.50 and 1 × SKU-2 at 4.99, checked out and paid in EUR (23.99): sequences 1-4. */
export function paidBasket(basketId: string): Record<string, unknown>[] {
  return [
    wireEvent(basketId, 1, 'ItemAdded', { sku: 'SKU-1', quantity: 2, unitPrice: 9.5 }),
    wireEvent(basketId, 2, 'ItemAdded', { sku: 'SKU-2', quantity: 1, unitPrice: 4.99 }),
    wireEvent(basketId, 3, 'BasketCheckedOut', { currency: 'EUR' }),
    wireEvent(basketId, 4, 'PaymentMade', { amount: 23.99, currency: 'EUR' }),
  ];
}

export const paidBasketLines = [
  { sku: 'SKU-1', quantity: 2 },
  { sku: 'SKU-2', quantity: 1 },
];

export function inventoryReserved(basketId: string, sequence = 5): Record<string, unknown> {
  return wireEvent(basketId, sequence, 'InventoryUpdated', { outcome: 'reserved' });
}

const logEntry = z.object({
  sequence: z.number().int(),
  type: z.string(),
  eventId: z.string(),
  deliveryCount: z.number().int(),
  serviceSequenceNumber: z.string(),
});

/** The stable HTTP contract of GET /api/orders/{basketId} (issue 2, deliverable 7). */
export const orderViewContract = z.object({
  basketId: z.string(),
  status: z.enum(orderStatuses),
  blockedReason: z.string().optional(),
  lastAppliedSequence: z.number().int().min(0),
  applied: z.array(logEntry.extend({ occurredAt: z.string(), appliedAt: z.string() })),
  parked: z.array(logEntry.extend({ parkedAt: z.string() })),
  rejected: z.array(
    z.object({
      sequence: z.number().int().optional(),
      type: z.string().optional(),
      reason: z.string(),
      deliveryCount: z.number().int(),
      serviceSequenceNumber: z.string(),
    }),
  ),
  duplicates: z.array(
    z.object({
      sequence: z.number().int(),
      eventId: z.string(),
      deliveryCount: z.number().int(),
      serviceSequenceNumber: z.string(),
    }),
  ),
});
export type OrderViewContract = z.infer<typeof orderViewContract>;

export const quarantineListContract = z.object({
  count: z.number().int(),
  limit: z.number().int(),
  messages: z.array(
    z.object({
      messageId: z.string(),
      sessionId: z.string().optional(),
      reason: z.string(),
      body: z.string(),
      deliveryCount: z.number().int(),
      serviceSequenceNumber: z.string(),
      quarantinedAt: z.string(),
    }),
  ),
});

export const problemContract = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().min(1),
});
