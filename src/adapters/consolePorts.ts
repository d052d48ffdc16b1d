import type { LatencyHistogram } from '../domain/liveFigures';
import type { OrderStatus } from '../domain/orderRecord';
import type { InFlightRow } from '../domain/stuck';

/**
 * The ports of the operator's console and the stuck-basket watchdog. Every read is bounded (a limit
 * or a cap) and says how many rows it read, so each view can report its cost.
 */

/** One page of a bounded table read: `continuation` is opaque, handed back by the caller as is. */
export interface Page<T> {
  items: T[];
  rowsRead: number;
  continuation?: string | undefined;
}

/** The continuation handed in was not one this API gave out (or has been tampered with). */
export class BadContinuationError extends Error {
  constructor(detail: string) {
    super(`continuation is not one this API returned: ${detail}`);
    this.name = 'BadContinuationError';
  }
}

export interface InFlightIndex {
  /** Inserts or replaces the basket's row in its bucket. */
  put(row: InFlightRow): Promise<void>;
  /** Removes the basket's row from a bucket; absent is fine. */
  drop(bucket: string, basketId: string): Promise<void>;
  /** Rows whose bucket starts at or before `cutoff` (ISO), oldest bucket first. */
  candidates(cutoff: string, limit: number, continuation?: string): Promise<Page<InFlightRow>>;
  /** How many rows lie at or before `cutoff`, reading at most `cap` keys. */
  countCandidates(cutoff: string, cap: number): Promise<{ count: number; capped: boolean }>;
}

export interface BasketSummary {
  basketId: string;
  status: OrderStatus;
  lastAppliedSequence: number;
  updatedAt: string;
}

/** The orders table read by its plain columns (status, lastAppliedSequence), never the record's JSON. */
export interface BasketListing {
  list(status: OrderStatus | undefined, limit: number, continuation?: string): Promise<Page<BasketSummary>>;
}

/** What one instance counted during one time slot (cumulative within the slot). */
export interface LiveSlot {
  /** The slot's start (ISO). */
  slot: string;
  instanceId: string;
  applied: number;
  latency: LatencyHistogram;
  /** Calls this instance was holding through a transient failure when it flushed. */
  heldCalls: number;
  flushedAt: string;
}

export interface BacklogCounts {
  active: number;
  scheduled: number;
  deadLettered: number;
}

export interface BacklogSample extends BacklogCounts {
  at: string;
}

export interface WatchdogSummary {
  at: string;
  stuckBaskets: number;
  inFlight: number;
  rowsRead: number;
  /** False when the tick stopped at its row bound before reading every candidate. */
  complete: boolean;
}

export type StatusCounts = Record<OrderStatus, number>;

export interface ConsoleMetricsStore {
  writeSlot(slot: LiveSlot): Promise<void>;
  /** Slots starting at or after `fromSlot` (ISO). */
  readSlots(fromSlot: string): Promise<Page<LiveSlot>>;
  /** Adds signed deltas to the shared basket counts (ETag-guarded read-modify-write). */
  addStatusCounts(delta: Partial<StatusCounts>): Promise<void>;
  readStatusCounts(): Promise<StatusCounts>;
  /** Keeps one backlog sample per ring position (`position` wraps, so the ring stays bounded). */
  writeBacklogSample(position: number, sample: BacklogSample): Promise<void>;
  readBacklogSamples(): Promise<Page<BacklogSample>>;
  writeWatchdogSummary(summary: WatchdogSummary): Promise<void>;
  readWatchdogSummary(): Promise<WatchdogSummary | undefined>;
  /** Deletes up to `max` slot rows that started before `beforeSlot`; returns how many. */
  deleteSlotsBefore(beforeSlot: string, max: number): Promise<number>;
}

/** The order-events queue's message counts (Service Bus runtime properties). */
export interface QueueBacklog {
  read(): Promise<BacklogCounts>;
}

export interface FulfillmentStep {
  at: string;
  /** The history event (TaskScheduled, EventRaised, ExecutionCompleted, ...), with the activity or entity name. */
  name: string;
  detail?: string;
}

export interface FulfillmentView {
  instanceId: string;
  runtimeStatus: string;
  createdAt?: string | undefined;
  lastUpdatedAt?: string | undefined;
  steps: FulfillmentStep[];
}

export interface FulfillmentStatusReader {
  /** The basket's fulfillment orchestration, or undefined when none was started. */
  status(basketId: string, withSteps: boolean): Promise<FulfillmentView | undefined>;
}
