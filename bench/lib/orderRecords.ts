import { receive } from '../../src/domain/convoy';
import { eventIdFor, type EventEnvelope } from '../../src/domain/events';
import type { OrderRecord } from '../../src/domain/orderRecord';

/**
 * A Paid basket of two items, as the convoy saves it after its fourth event (the bench's baskets at
 * E = 5: two ItemAdded, BasketCheckedOut, PaymentMade): the record the order-save benches write.
 */
export function paidRecord(basketId: string): OrderRecord {
  const types: [EventEnvelope['type'], unknown][] = [
    ['ItemAdded', { sku: 'SKU-1', quantity: 2, unitPrice: 9.5 }],
    ['ItemAdded', { sku: 'SKU-2', quantity: 1, unitPrice: 4.99 }],
    ['BasketCheckedOut', { currency: 'EUR' }],
    ['PaymentMade', { amount: 23.99, currency: 'EUR' }],
  ];
  let record: OrderRecord | undefined;
  types.forEach(([type, data], k) => {
    const at = new Date().toISOString();
    const event = { basketId, sequence: k + 1, eventId: eventIdFor(basketId, k + 1), type, occurredAt: at, data };
    const delivery = { messageId: event.eventId, deliveryCount: 1, serviceSequenceNumber: String(k), receivedAt: at };
    record = receive(record, event as EventEnvelope, delivery, at, { maxParkedEvents: 100 }).record;
  });
  if (record === undefined) throw new Error('no record');
  return record;
}
