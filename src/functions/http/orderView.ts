import type { OrderRecord } from '../../domain/orderRecord';

/**
 * The public shape of GET /api/orders/{basketId} (a stable contract): the record as an operator
 * reads it, with parked events flattened like the applied log and the total in major units.
 */
export function orderView(record: OrderRecord) {
  return {
    basketId: record.basketId,
    status: record.status,
    ...(record.blockedReason === undefined ? {} : { blockedReason: record.blockedReason }),
    lastAppliedSequence: record.lastAppliedSequence,
    ...(record.currency === undefined ? {} : { currency: record.currency }),
    total: record.totalMinor / 100,
    lines: record.lines,
    ...(record.inventory === undefined ? {} : { inventory: record.inventory }),
    applied: record.applied,
    parked: record.parked.map(({ event, delivery, parkedAt }) => ({
      sequence: event.sequence,
      type: event.type,
      eventId: event.eventId,
      occurredAt: event.occurredAt,
      parkedAt,
      deliveryCount: delivery.deliveryCount,
      serviceSequenceNumber: delivery.serviceSequenceNumber,
    })),
    rejected: record.rejected,
    duplicates: record.duplicates,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export type OrderView = ReturnType<typeof orderView>;
