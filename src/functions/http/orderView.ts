import type { DeadLetter } from '../../adapters/ports';
import type { OrderRecord } from '../../domain/orderRecord';

/**
 * What the order view says about the basket's messages in the dead-letter queue: which ones, or
 * why it could not look (the record is shown either way).
 */
export type DeadLetterCheck =
  { ok: true; messages: DeadLetter[]; scanned: number; complete: boolean } | { ok: false; error: string };

/**
 * The public shape of GET /api/orders/{basketId} (a stable contract): the record as an operator
 * reads it, with parked events flattened like the applied log and the total in major units.
 */
export function orderView(record: OrderRecord, deadLetters: DeadLetterCheck) {
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
    // Sequences the convoy may be waiting for: replay them with POST /api/dead-letters/{basketId}/replay.
    deadLettered: deadLetters.ok ? deadLetters.messages : [],
    deadLetterCheck: deadLetters.ok
      ? { scanned: deadLetters.scanned, complete: deadLetters.complete }
      : { error: deadLetters.error },
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export type OrderView = ReturnType<typeof orderView>;
