import { z } from 'zod';
import type { FulfillmentView } from '../../adapters/consolePorts';
import type { DeadLetter } from '../../adapters/ports';
import { quantitiesBySku } from '../../domain/order';
import type { OrderRecord, QuarantinedMessage } from '../../domain/orderRecord';

/**
 * One basket's story in time order, from its order record (what the convoy did with each delivery),
 * the dead letters and quarantined messages that name it, and its fulfillment's history.
 */

export type TimelineKind =
  | 'published'
  | 'enqueued'
  | 'applied'
  | 'parked'
  | 'duplicate'
  | 'rejected'
  | 'dead-lettered'
  | 'quarantined'
  | 'fulfillment';

export interface TimelineEntry {
  at: string;
  kind: TimelineKind;
  sequence?: number;
  type?: string;
  deliveryCount?: number;
  durationMs?: number;
  detail?: string;
  traceId?: string;
}

// Read when present: stream `trace` adds the applied event's trace id to the record.
const tracedSchema = z.object({ traceId: z.string().min(1) });
const enqueuedSchema = z.object({ enqueuedAt: z.string().min(1) });

function traceIdOf(entry: unknown): string | undefined {
  const parsed = tracedSchema.safeParse(entry);
  return parsed.success ? parsed.data.traceId : undefined;
}

function appliedEntries(record: OrderRecord): TimelineEntry[] {
  return record.applied.flatMap((entry) => {
    const { sequence, type, deliveryCount } = entry;
    const enqueued = enqueuedSchema.safeParse(entry);
    const traceId = traceIdOf(entry);
    return [
      { at: entry.occurredAt, kind: 'published' as const, sequence, type },
      ...(enqueued.success ? [{ at: enqueued.data.enqueuedAt, kind: 'enqueued' as const, sequence, type }] : []),
      {
        at: entry.appliedAt,
        kind: 'applied' as const,
        sequence,
        type,
        deliveryCount,
        ...(traceId === undefined ? {} : { traceId }),
      },
    ];
  });
}

function recordEntries(record: OrderRecord): TimelineEntry[] {
  return [
    ...appliedEntries(record),
    ...record.parked.flatMap(({ event, delivery, parkedAt }) => [
      { at: event.occurredAt, kind: 'published' as const, sequence: event.sequence, type: event.type },
      {
        at: parkedAt,
        kind: 'parked' as const,
        sequence: event.sequence,
        type: event.type,
        deliveryCount: delivery.deliveryCount,
        detail: `waiting for sequence ${record.lastAppliedSequence + 1}`,
      },
    ]),
    ...record.duplicates.map((entry) => ({
      at: entry.seenAt,
      kind: 'duplicate' as const,
      sequence: entry.sequence,
      deliveryCount: entry.deliveryCount,
    })),
    ...record.rejected.map((entry) => ({
      at: entry.rejectedAt,
      kind: 'rejected' as const,
      ...(entry.sequence === undefined ? {} : { sequence: entry.sequence }),
      ...(entry.type === undefined ? {} : { type: entry.type }),
      deliveryCount: entry.deliveryCount,
      detail: entry.reason,
    })),
  ];
}

export interface TimelineSources {
  basketId: string;
  record: OrderRecord | undefined;
  deadLetters: readonly DeadLetter[];
  quarantined: readonly QuarantinedMessage[];
  fulfillment: FulfillmentView | undefined;
  /** When the dead letters were looked at: the time shown for one whose enqueue time is unknown. */
  readAt: string;
}

export function buildTimeline(sources: TimelineSources) {
  const { record, fulfillment } = sources;
  const entries: TimelineEntry[] = [
    ...(record === undefined ? [] : recordEntries(record)),
    ...sources.deadLetters.map((letter) => ({
      at: letter.enqueuedAt ?? sources.readAt,
      kind: 'dead-lettered' as const,
      ...(letter.sequence === undefined ? {} : { sequence: letter.sequence }),
      ...(letter.type === undefined ? {} : { type: letter.type }),
      deliveryCount: letter.deliveryCount,
      detail: [letter.reason, letter.description].filter((part) => part !== undefined && part !== '').join(': '),
    })),
    ...sources.quarantined.map((message) => ({
      at: message.quarantinedAt,
      kind: 'quarantined' as const,
      deliveryCount: message.deliveryCount,
      detail: `${message.messageId}: ${message.reason}`,
    })),
    ...(fulfillment?.steps ?? []).map((step) => ({
      at: step.at,
      kind: 'fulfillment' as const,
      detail: step.detail === undefined ? step.name : `${step.name}: ${step.detail}`,
    })),
  ];
  // Stable: entries of the same instant keep the order above (published before applied).
  entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const traceId = record?.applied.map(traceIdOf).find((id) => id !== undefined);
  return {
    basketId: sources.basketId,
    status: record?.status ?? null,
    ...(record?.blockedReason === undefined ? {} : { blockedReason: record.blockedReason }),
    ...(traceId === undefined ? {} : { traceId }),
    entries,
    fulfillment:
      fulfillment === undefined
        ? null
        : { instanceId: fulfillment.instanceId, runtimeStatus: fulfillment.runtimeStatus, steps: fulfillment.steps },
    // What the basket holds in stock: all its lines once reserved, nothing when it was short (released).
    reserved: record?.inventory?.outcome === 'reserved' ? quantitiesBySku(record.lines) : [],
  };
}
