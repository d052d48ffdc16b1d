import { eventIdFor, eventEnvelopeSchema, type EventEnvelope } from '../../../src/domain/events';
import { receive, type ConvoyLimits, type ConvoyResult } from '../../../src/domain/convoy';
import type { Delivery, OrderRecord } from '../../../src/domain/orderRecord';

/**
 * Given/When/Then vocabulary for the domain tests: events of one basket built through the real
 * schema (so a test cannot use an event the contract forbids), a convoy fed in the given order.
 */

export const basketId = 'b-1';
export const limits: ConvoyLimits = { maxParkedEvents: 10 };

let clockTick = 0;
/** A distinct, increasing instant per call, as the handler's clock would give. */
export function at(): string {
  clockTick += 1;
  return new Date(Date.UTC(2026, 0, 1, 12, 0, 0, clockTick)).toISOString();
}

function envelope(sequence: number, body: { type: string; data: unknown }): EventEnvelope {
  return eventEnvelopeSchema.parse({
    basketId,
    sequence,
    eventId: eventIdFor(basketId, sequence),
    occurredAt: '2026-01-01T11:00:00.000Z',
    ...body,
  });
}

export const itemAdded = (sequence: number, sku = 'SKU-1', quantity = 1, unitPrice = 9.5) =>
  envelope(sequence, { type: 'ItemAdded', data: { sku, quantity, unitPrice } });
export const checkedOut = (sequence: number, currency = 'EUR') =>
  envelope(sequence, { type: 'BasketCheckedOut', data: { currency } });
export const paymentMade = (sequence: number, amount: number, currency = 'EUR') =>
  envelope(sequence, { type: 'PaymentMade', data: { amount, currency } });
export const inventoryReserved = (sequence: number) =>
  envelope(sequence, { type: 'InventoryUpdated', data: { outcome: 'reserved' } });
export const inventoryInsufficient = (sequence: number, sku = 'SKU-1', requested = 1, available = 0) =>
  envelope(sequence, {
    type: 'InventoryUpdated',
    data: { outcome: 'insufficient', shortages: [{ sku, requested, available }] },
  });

let brokerSequence = 1000;
/** A delivery as the broker would report it; each call is a new broker sequence number. */
export function delivery(event: { eventId: string }, deliveryCount = 1): Delivery {
  brokerSequence += 1;
  return { messageId: event.eventId, deliveryCount, serviceSequenceNumber: String(brokerSequence), receivedAt: at() };
}

/** Given these events, received in this order: the record they leave behind. */
export function given(events: readonly EventEnvelope[], convoyLimits: ConvoyLimits = limits): OrderRecord | undefined {
  let record: OrderRecord | undefined;
  for (const event of events) record = receive(record, event, delivery(event), at(), convoyLimits).record;
  return record;
}

/** When this event arrives. */
export function when(
  record: OrderRecord | undefined,
  event: EventEnvelope,
  convoyLimits: ConvoyLimits = limits,
  eventDelivery: Delivery = delivery(event),
): ConvoyResult {
  return receive(record, event, eventDelivery, at(), convoyLimits);
}

/** A basket of two SKU-1 at 9.50 and one SKU-2 at 1.25, checked out in EUR: total 20.25. */
export const checkedOutBasket = (): EventEnvelope[] => [
  itemAdded(1, 'SKU-1', 2, 9.5),
  itemAdded(2, 'SKU-2', 1, 1.25),
  checkedOut(3, 'EUR'),
];
export const paidBasket = (): EventEnvelope[] => [...checkedOutBasket(), paymentMade(4, 20.25, 'EUR')];
