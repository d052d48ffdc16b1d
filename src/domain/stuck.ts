import type { OrderRecord, OrderStatus } from './orderRecord';
import { isoToMs, msToIso } from './time';

/**
 * Which baskets are in flight, when they last moved, and — for one that stopped — why, in words.
 * The in-flight index keeps one row per basket that is not terminal, keyed by the start of the time
 * bucket of its last progress; these rules say when that row must be written, moved or dropped, so
 * that most events touch it not at all (see docs/console.md). Pure: time comes in as arguments.
 */

export const terminalStatuses: readonly OrderStatus[] = ['Fulfilled', 'Backordered'];

/** Fulfilled and Backordered never change again; Blocked does not either, but it waits for a person. */
export function isTerminal(status: OrderStatus): boolean {
  return terminalStatuses.includes(status);
}

/**
 * When the order last moved: its last applied event, or the block; a basket that has applied nothing
 * yet counts from its creation. Parked and duplicate deliveries are not progress.
 */
export function lastProgressAt(record: OrderRecord): string {
  const applied = record.applied.at(-1)?.appliedAt ?? record.createdAt;
  if (record.status !== 'Blocked') return applied;
  const blocking = record.rejected.find((entry) => entry.reason === record.blockedReason);
  return blocking !== undefined && blocking.rejectedAt > applied ? blocking.rejectedAt : applied;
}

/** The bucket's start as ISO 8601 (UTC, fixed width), so keys sort as times do. */
export function bucketKey(atMs: number, bucketMs: number): string {
  return msToIso(Math.floor(atMs / bucketMs) * bucketMs);
}

/** One row of the in-flight index. */
export interface InFlightRow {
  bucket: string;
  basketId: string;
  status: OrderStatus;
  lastProgressAt: string;
  lastAppliedSequence: number;
}

/** Where the record's row belongs, or undefined when the order is terminal (no row). */
export function inFlightRowOf(record: OrderRecord, bucketMs: number): InFlightRow | undefined {
  if (isTerminal(record.status)) return undefined;
  const progress = lastProgressAt(record);
  return {
    bucket: bucketKey(isoToMs(progress), bucketMs),
    basketId: record.basketId,
    status: record.status,
    lastProgressAt: progress,
    lastAppliedSequence: record.lastAppliedSequence,
  };
}

export interface IndexWrites {
  put?: InFlightRow;
  drop?: { bucket: string; basketId: string };
}

/**
 * The index writes one saved step needs: a new order gets a row; a row moves only when the last
 * progress crossed into another bucket; a terminal order loses its row. A redelivered message
 * re-puts the row (idempotent), because the delivery before it may have crashed between saving the
 * order and writing the index. Everything else — most events — writes nothing.
 */
export function indexWrites(
  before: OrderRecord | undefined,
  after: OrderRecord,
  bucketMs: number,
  redelivered: boolean,
): IndexWrites {
  const was = before === undefined ? undefined : inFlightRowOf(before, bucketMs);
  const now = inFlightRowOf(after, bucketMs);
  const drop = was === undefined ? undefined : { bucket: was.bucket, basketId: was.basketId };
  if (now === undefined) return drop === undefined ? {} : { drop };
  if (was === undefined) return { put: now };
  if (was.bucket !== now.bucket) return { put: now, ...(drop === undefined ? {} : { drop }) };
  return redelivered ? { put: now } : {};
}

/** Not terminal and no progress for at least the threshold. */
export function isStuck(record: OrderRecord, nowMs: number, thresholdMs: number): boolean {
  return !isTerminal(record.status) && nowMs - isoToMs(lastProgressAt(record)) >= thresholdMs;
}

/** What the watchdog found about a stuck basket outside its record. */
export interface StuckEvidence {
  /** The basket's messages in the dead-letter queue (as far as the bounded scan saw). */
  deadLetters: readonly {
    sequence?: number | undefined;
    reason?: string | undefined;
    description?: string | undefined;
  }[];
  /** Quarantined messages that name this basket as their session. */
  quarantined: readonly { messageId: string; reason: string }[];
  /** The fulfillment orchestration's runtime status; undefined = no such instance (only asked for Paid). */
  fulfillmentStatus?: string | undefined;
}

export const stuckReasonCodes = [
  'waiting-for-sequence',
  'dead-lettered',
  'quarantined',
  'blocked',
  'fulfillment-failed',
  'fulfillment-stalled',
] as const;
export type StuckReasonCode = (typeof stuckReasonCodes)[number];

export interface StuckReason {
  code: StuckReasonCode;
  text: string;
  sequence?: number;
  parkedSequences?: number[];
  deadLetterReason?: string;
}

const failedRuntimeStatuses = new Set(['Failed', 'Terminated', 'Canceled']);

/** Why the basket does not move, most specific cause first: the rule, the dead letter, the quarantine, fulfillment, the gap. */
export function stuckReason(record: OrderRecord, evidence: StuckEvidence): StuckReason {
  const next = record.lastAppliedSequence + 1;
  if (record.status === 'Blocked') {
    return { code: 'blocked', text: `Blocked: ${record.blockedReason ?? 'no reason recorded'}` };
  }
  const parkedSequences = record.parked.map((entry) => entry.event.sequence);
  const parked = parkedSequences.length === 0 ? {} : { parkedSequences };
  const letter = evidence.deadLetters.find((candidate) => candidate.sequence === next) ?? evidence.deadLetters[0];
  if (letter !== undefined) {
    const sequence = letter.sequence ?? next;
    const why = [letter.reason, letter.description].filter((part) => part !== undefined && part !== '').join(': ');
    const deadLetterReason = why === '' ? 'no reason given' : why;
    return {
      code: 'dead-lettered',
      text: `Sequence ${sequence} is in the dead-letter queue (${deadLetterReason})${behind(parkedSequences)}; replay the basket's dead letters.`,
      sequence,
      deadLetterReason,
      ...parked,
    };
  }
  const quarantined = evidence.quarantined[0];
  if (quarantined !== undefined) {
    return {
      code: 'quarantined',
      text: `Message ${quarantined.messageId} of this basket is quarantined (${quarantined.reason}); replay it once the cause is fixed.`,
      sequence: next,
      ...parked,
    };
  }
  if (record.status === 'Paid') return fulfillmentReason(record, evidence.fulfillmentStatus, next);
  return {
    code: 'waiting-for-sequence',
    text: `Waiting for sequence ${next}${behind(parkedSequences)}${parkedSequences.length === 0 ? '; nothing later has arrived' : ''}.`,
    sequence: next,
    ...parked,
  };
}

function fulfillmentReason(record: OrderRecord, runtimeStatus: string | undefined, next: number): StuckReason {
  const instance = `fulfill-${record.basketId}`;
  if (runtimeStatus !== undefined && failedRuntimeStatuses.has(runtimeStatus)) {
    return {
      code: 'fulfillment-failed',
      text: `Fulfillment ${instance} is ${runtimeStatus}: InventoryUpdated (sequence ${next}) will not come until it is restarted.`,
      sequence: next,
    };
  }
  const state = runtimeStatus === undefined ? 'not started' : runtimeStatus;
  return {
    code: 'fulfillment-stalled',
    text: `Paid, fulfillment ${instance} is ${state} and not moving: waiting for InventoryUpdated (sequence ${next}).`,
    sequence: next,
  };
}

function behind(parkedSequences: readonly number[]): string {
  if (parkedSequences.length === 0) return '';
  const shown = parkedSequences.slice(0, 10).join(', ');
  const more = parkedSequences.length > 10 ? ` and ${parkedSequences.length - 10} more` : '';
  return `; ${parkedSequences.length === 1 ? 'sequence' : 'sequences'} ${shown}${more} parked behind it`;
}
