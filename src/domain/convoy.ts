import type { EventEnvelope } from './events';
import type { OrderState } from './order';
import { decide, quantitiesBySku } from './order';
import type { Delivery, OrderRecord, ParkedEntry, RejectedEntry } from './orderRecord';
import {
  clip,
  maxEventsPerBasket,
  maxIdChars,
  maxReasonChars,
  maxRecordChars,
  storedChars,
  trimLogsToFit,
} from './recordBudget';

/**
 * Resequencing and idempotency over an order record, so the order sees every event once and in
 * sequence although Service Bus delivers at least once and producers may retry or send out of order:
 * - sequence ≤ last applied (or already parked / rejected) → duplicate: no effect, logged (bounded);
 * - last + 1 → applied, then every parked successor that is now next;
 * - later → parked until its predecessors arrive (bounded; overflow blocks the order);
 * - a rule violation blocks the order; nothing is applied after that, later events are rejected;
 * - a sequence beyond the events a basket may have, or a step that would outgrow the record's
 *   storage budget, is such a violation (recordBudget.ts), so the record always fits one entity.
 * Pure: the clock reading comes in as `at` (ISO 8601).
 */

export interface ConvoyLimits {
  /** Events that may wait for a missing predecessor; one more blocks the order. */
  maxParkedEvents: number;
  /** Newest duplicate sightings kept (the log is for operators; older ones are dropped). */
  maxDuplicates?: number;
  /** Newest rejections kept; the first reason survives in `blockedReason`. */
  maxRejected?: number;
  /** Highest sequence a basket may use (default maxEventsPerBasket). */
  maxSequence?: number;
  /** Largest record in stored characters (default maxRecordChars). */
  maxRecordChars?: number;
}

export const defaultMaxDuplicates = 50;
export const defaultMaxRejected = 200;

export type ConvoyOutcome =
  | { kind: 'applied'; applied: readonly number[] }
  | { kind: 'parked'; waitingFor: number }
  | { kind: 'duplicate'; reason: string }
  | { kind: 'blocked'; applied: readonly number[]; reason: string }
  | { kind: 'rejected'; reason: string };

export interface ConvoyResult {
  record: OrderRecord;
  outcome: ConvoyOutcome;
}

/** Identifies an event that failed its schema as far as it could be read. */
export interface InvalidEvent {
  basketId: string;
  sequence: number;
  type?: string | undefined;
  eventId?: string | undefined;
}

export function newOrderRecord(basketId: string, at: string): OrderRecord {
  return {
    basketId,
    status: 'Open',
    lines: [],
    totalMinor: 0,
    lastAppliedSequence: 0,
    applied: [],
    parked: [],
    rejected: [],
    duplicates: [],
    createdAt: at,
    updatedAt: at,
  };
}

/** Receives one valid event of the record's basket. */
export function receive(
  current: OrderRecord | undefined,
  event: EventEnvelope,
  delivery: Delivery,
  at: string,
  limits: ConvoyLimits,
): ConvoyResult {
  const record = current ?? newOrderRecord(event.basketId, at);
  const step: Step = { delivery, at, limits };
  return withinBudget(record, subjectOf(event), step, receiveEvent(record, event, step));
}

/**
 * Records an event that failed its schema (or was refused outside the domain, say because the
 * store cannot hold the record) at a known sequence. If the convoy still needs that sequence it
 * blocks the order, because a valid event can never take its place and the convoy would wait for
 * it forever.
 */
export function rejectInvalid(
  current: OrderRecord | undefined,
  invalid: InvalidEvent,
  reason: string,
  delivery: Delivery,
  at: string,
  limits: ConvoyLimits,
): ConvoyResult {
  const record = current ?? newOrderRecord(invalid.basketId, at);
  const step: Step = { delivery, at, limits };
  const subject = subjectOfInvalid(invalid, delivery);
  return withinBudget(record, subject, step, recordInvalid(record, subject, reason, step));
}

/** What the outside world must have done for a record in this state; safe to act on repeatedly. */
export type RequiredEffect = {
  kind: 'startFulfillment';
  request: { basketId: string; lines: readonly { sku: string; quantity: number }[]; nextSequence: number };
};

/**
 * Derived from state, not from the message just handled, so a crash between saving the record and
 * acting on it heals when the message (now a duplicate) is redelivered.
 */
export function requiredEffects(record: OrderRecord): RequiredEffect[] {
  if (record.status !== 'Paid') return [];
  // While Paid nothing but InventoryUpdated can apply, so the last applied event is PaymentMade.
  return [
    {
      kind: 'startFulfillment',
      request: {
        basketId: record.basketId,
        lines: quantitiesBySku(record.lines),
        nextSequence: record.lastAppliedSequence + 1,
      },
    },
  ];
}

/** One message being handled: how it arrived, the clock reading, the limits. */
interface Step {
  delivery: Delivery;
  at: string;
  limits: ConvoyLimits;
}

/** What a log entry says about the message: its sequence, and its type and id when known. */
interface Subject {
  sequence: number;
  type?: string;
  eventId: string;
}

function subjectOf(event: EventEnvelope): Subject {
  return { sequence: event.sequence, type: event.type, eventId: event.eventId };
}

/** What an invalid body claims is cut to size: it was not validated. */
function subjectOfInvalid(invalid: InvalidEvent, delivery: Delivery): Subject {
  return {
    sequence: invalid.sequence,
    ...(invalid.type === undefined ? {} : { type: clip(invalid.type, maxIdChars) }),
    eventId: clip(invalid.eventId ?? delivery.messageId, maxIdChars),
  };
}

function receiveEvent(record: OrderRecord, event: EventEnvelope, step: Step): ConvoyResult {
  const subject = subjectOf(event);
  const seen = alreadySeen(record, event.sequence);
  if (seen !== undefined) return duplicate(record, subject, seen, step);

  if (record.status === 'Blocked') {
    const reason = `The order is blocked (${record.blockedReason ?? 'no reason recorded'}); ${event.type} at sequence ${event.sequence} was not applied.`;
    return rejected(record, subject, reason, step);
  }

  const maxSequence = step.limits.maxSequence ?? maxEventsPerBasket;
  if (event.sequence > maxSequence) {
    const reason = `${event.type} at sequence ${event.sequence} is beyond the ${maxSequence} events a basket may have.`;
    return blockedAt(record, subject, reason, step);
  }

  const next = record.lastAppliedSequence + 1;
  if (event.sequence > next) {
    if (record.parked.length >= step.limits.maxParkedEvents) {
      const reason = `Too many events parked: ${record.parked.length} events already wait for sequence ${next}; ${event.type} at sequence ${event.sequence} overflowed.`;
      return blockedAt(record, subject, reason, step);
    }
    const parked = [...record.parked, { event, delivery: step.delivery, parkedAt: step.at }].sort(
      (a, b) => a.event.sequence - b.event.sequence,
    );
    return { record: { ...record, parked, updatedAt: step.at }, outcome: { kind: 'parked', waitingFor: next } };
  }

  return applyAndDrain(record, { event, delivery: step.delivery, parkedAt: step.at }, step);
}

function recordInvalid(record: OrderRecord, subject: Subject, reason: string, step: Step): ConvoyResult {
  const { sequence } = subject;
  if (record.rejected.some((entry) => entry.sequence === sequence)) {
    return duplicate(record, subject, 'already rejected', step);
  }
  if (record.parked.some((entry) => entry.event.sequence === sequence)) {
    // A valid event already holds this sequence: the invalid copy changes nothing.
    return duplicate(record, subject, `sequence ${sequence} is already parked as a valid event`, step);
  }
  if (sequence <= record.lastAppliedSequence || record.status === 'Blocked') {
    return rejected(record, subject, reason, step);
  }
  return blockedAt(record, subject, `Sequence ${sequence} is invalid: ${reason}`, step);
}

function alreadySeen(record: OrderRecord, sequence: number): string | undefined {
  if (sequence <= record.lastAppliedSequence)
    return `sequence ${sequence} ≤ last applied ${record.lastAppliedSequence}`;
  if (record.parked.some((entry) => entry.event.sequence === sequence)) return `sequence ${sequence} is already parked`;
  if (record.rejected.some((entry) => entry.sequence === sequence)) return `sequence ${sequence} was already rejected`;
  return undefined;
}

function duplicate(record: OrderRecord, subject: Subject, why: string, { delivery, at, limits }: Step): ConvoyResult {
  const entry = {
    sequence: subject.sequence,
    eventId: subject.eventId,
    seenAt: at,
    deliveryCount: delivery.deliveryCount,
    serviceSequenceNumber: delivery.serviceSequenceNumber,
  };
  const duplicates = newest([...record.duplicates, entry], limits.maxDuplicates ?? defaultMaxDuplicates);
  return { record: { ...record, duplicates, updatedAt: at }, outcome: { kind: 'duplicate', reason: why } };
}

/** Applies `first`, then every parked successor that is next; each keeps the delivery that carried it. */
function applyAndDrain(record: OrderRecord, first: ParkedEntry, step: Step): ConvoyResult {
  let current = record;
  let candidate: ParkedEntry | undefined = first;
  const applied: number[] = [];
  while (candidate !== undefined) {
    const { event, delivery }: ParkedEntry = candidate;
    const decision = decide(stateOf(current), event);
    if (!decision.accepted) {
      const reason = `${event.type} at sequence ${event.sequence} broke a rule: ${decision.reason}`;
      const blocked = blockedAt(current, subjectOf(event), reason, { ...step, delivery });
      return { record: blocked.record, outcome: { kind: 'blocked', applied, reason: clip(reason, maxReasonChars) } };
    }
    current = {
      ...withState(current, decision.state),
      lastAppliedSequence: event.sequence,
      applied: [
        ...current.applied,
        {
          sequence: event.sequence,
          type: event.type,
          eventId: event.eventId,
          occurredAt: event.occurredAt,
          appliedAt: step.at,
          deliveryCount: delivery.deliveryCount,
          serviceSequenceNumber: delivery.serviceSequenceNumber,
          ...(delivery.traceId === undefined ? {} : { traceId: delivery.traceId }),
        },
      ],
      updatedAt: step.at,
    };
    applied.push(event.sequence);
    const [head, ...rest] = current.parked;
    if (head?.event.sequence === event.sequence + 1) {
      current = { ...current, parked: rest };
      candidate = head;
    } else {
      candidate = undefined;
    }
  }
  return { record: current, outcome: { kind: 'applied', applied } };
}

function stateOf(record: OrderRecord): OrderState {
  return {
    status: record.status,
    lines: record.lines,
    currency: record.currency,
    totalMinor: record.totalMinor,
    inventory: record.inventory,
  };
}

/** The record with a new order state; optional fields are left out rather than stored as undefined. */
function withState(record: OrderRecord, state: OrderState): OrderRecord {
  return {
    ...record,
    status: state.status,
    lines: state.lines,
    totalMinor: state.totalMinor,
    ...(state.currency === undefined ? {} : { currency: state.currency }),
    ...(state.inventory === undefined ? {} : { inventory: state.inventory }),
  };
}

function rejection(subject: Subject, reason: string, { delivery, at }: Step): RejectedEntry {
  return {
    ...subject,
    reason: clip(reason, maxReasonChars),
    rejectedAt: at,
    deliveryCount: delivery.deliveryCount,
    serviceSequenceNumber: delivery.serviceSequenceNumber,
  };
}

function rejected(record: OrderRecord, subject: Subject, reason: string, step: Step): ConvoyResult {
  const entry = rejection(subject, reason, step);
  const entries = newest([...record.rejected, entry], step.limits.maxRejected ?? defaultMaxRejected);
  return {
    record: { ...record, rejected: entries, updatedAt: step.at },
    outcome: { kind: 'rejected', reason: entry.reason },
  };
}

/** Blocks the order; parked events can then never apply, so they move to the rejected log. */
function blockedAt(record: OrderRecord, subject: Subject, reason: string, step: Step): ConvoyResult {
  const cause = rejection(subject, reason, step);
  const stranded = record.parked.map(({ event, delivery }) =>
    rejection(
      subjectOf(event),
      `The order was blocked at sequence ${String(cause.sequence)} before this parked event could apply.`,
      { ...step, delivery },
    ),
  );
  const blocked: OrderRecord = {
    ...record,
    status: 'Blocked',
    blockedReason: cause.reason,
    parked: [],
    rejected: newest([...record.rejected, cause, ...stranded], step.limits.maxRejected ?? defaultMaxRejected),
    updatedAt: step.at,
  };
  return { record: blocked, outcome: { kind: 'blocked', applied: [], reason: cause.reason } };
}

/**
 * The result if its record fits the storage budget (operator logs trimmed, oldest first, as
 * needed); otherwise the step is refused and the order blocked as it stood before, with the reason.
 */
function withinBudget(before: OrderRecord, subject: Subject, step: Step, result: ConvoyResult): ConvoyResult {
  const maxChars = step.limits.maxRecordChars ?? maxRecordChars;
  const trimmed = trimLogsToFit(result.record, maxChars);
  if (trimmed.fits) return { record: trimmed.record, outcome: result.outcome };
  const reason = `${subject.type ?? 'The message'} at sequence ${subject.sequence} would grow the order record to ${storedChars(result.record)} characters; one order may hold at most ${maxChars} (the Table entity limit is 1 MiB).`;
  const refused = blockedAt(before, subject, reason, step);
  // Blocking only shrinks the state (parked events become short rejections); the logs make room.
  return { record: trimLogsToFit(refused.record, maxChars).record, outcome: refused.outcome };
}

function newest<T>(entries: readonly T[], limit: number): T[] {
  return entries.slice(Math.max(0, entries.length - limit));
}
