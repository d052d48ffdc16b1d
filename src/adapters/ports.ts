import type { Context } from '@opentelemetry/api';
import type { EventEnvelope } from '../domain/events';
import { PermanentError } from '../errors';
import type { OrderRecord, QuarantinedMessage } from '../domain/orderRecord';

/**
 * The ports the handlers depend on. Azure adapters implement them in this folder; unit tests pass
 * in-memory fakes of exactly these interfaces.
 */

/** A stored record plus the ETag that guards the next write. */
export interface StoredOrder {
  record: OrderRecord;
  etag: string;
}

/** Another writer got there first (ETag mismatch or create of an existing row): retry from a fresh read. */
export class ConcurrencyConflictError extends Error {
  constructor(basketId: string) {
    super(`Order ${basketId} was changed by another writer; the message will be retried.`);
    this.name = 'ConcurrencyConflictError';
  }
}

/** The store cannot hold or read a basket's record: permanent, retrying cannot help. */
export class PermanentStoreError extends PermanentError {}

/** The record cannot be stored at all (it exceeds one entity). */
export class RecordTooLargeError extends PermanentStoreError {}

/** The stored record is not a valid order record (written by a bug, or edited by hand). */
export class UnreadableRecordError extends PermanentStoreError {}

/**
 * get throws UnreadableRecordError for a row it cannot read; create and replace throw
 * RecordTooLargeError, before any I/O, for a record that cannot fit.
 */
export interface OrderStore {
  get(basketId: string): Promise<StoredOrder | undefined>;
  /** Inserts a new record; ConcurrencyConflictError if one exists already. Returns the new ETag. */
  create(record: OrderRecord): Promise<string>;
  /** Replaces a record only if its ETag still matches; ConcurrencyConflictError otherwise. Returns the new ETag. */
  replace(record: OrderRecord, etag: string): Promise<string>;
}

export interface QuarantineStore {
  /** Idempotent per messageId, so a redelivered poison message is recorded once. */
  add(message: QuarantinedMessage): Promise<void>;
  list(limit: number): Promise<QuarantinedMessage[]>;
  /** The quarantined message with this id, if any. */
  get(messageId: string): Promise<QuarantinedMessage | undefined>;
  /** Forgets a message once an operator's replay recorded it on its order; absent is fine. */
  remove(messageId: string): Promise<void>;
}

/** A message in the order-events queue's dead-letter sub-queue, as an operator sees it. */
export interface DeadLetter {
  /** The broker's sequence number in the dead-letter queue (decimal text). */
  serviceSequenceNumber: string;
  messageId: string;
  sessionId?: string;
  /** The event's sequence and type, from the message's application properties or body, when present. */
  sequence?: number;
  type?: string;
  /** Why the broker or the consumer dead-lettered it (e.g. MaxDeliveryCountExceeded). */
  reason?: string;
  description?: string;
  deliveryCount: number;
  enqueuedAt?: string;
}

/** One bounded look at the dead-letter queue: `complete` is false when it held more than was scanned. */
export interface DeadLetterScan {
  messages: DeadLetter[];
  scanned: number;
  complete: boolean;
}

/** A dead letter locked for replay: complete() removes it from the dead-letter queue. */
export interface LockedDeadLetter {
  letter: DeadLetter;
  body: unknown;
  complete(): Promise<void>;
}

export interface LockedDeadLetters extends DeadLetterScan {
  locked: LockedDeadLetter[];
  /** Gives back (abandons) every locked message not completed, and closes the receiver. */
  release(): Promise<void>;
}

export interface DeadLetterQueue {
  /** Peeks (no locks) at most `maxScanned` dead letters, keeping those of `sessionId` (all when undefined). */
  peek(sessionId: string | undefined, maxScanned: number): Promise<DeadLetterScan>;
  /** Locks the dead letters of one session among the first `maxScanned`; other messages are given back at once. */
  lockSession(sessionId: string, maxScanned: number): Promise<LockedDeadLetters>;
}

export interface PublishOptions {
  /** Enqueue this event no earlier than this instant (Service Bus scheduled enqueue time). */
  notBefore?: Date;
}

export interface EventPublisher {
  /**
   * Publishes events to the order-events queue with sessionId = basketId and messageId = eventId,
   * in the order given (events of one basket must keep their relative order). `cause`: the trace the
   * messages continue when no span is active (nothing exported: tracing.ts continuedContext).
   */
  publish(events: readonly { event: EventEnvelope; options?: PublishOptions }[], cause?: Context): Promise<void>;
  close(): Promise<void>;
}

/** What the fulfillment orchestration needs to reserve stock and answer into the basket's session. */
export interface FulfillmentRequest {
  basketId: string;
  lines: readonly { sku: string; quantity: number }[];
  /** The sequence InventoryUpdated will carry: the one after PaymentMade. */
  nextSequence: number;
}

export interface StartHint {
  /**
   * The step that called saved the order into Paid (its ETag-guarded write made this the only such
   * step): no fulfillment of this basket can exist yet, so there is nothing to look up first.
   */
  paidInThisStep: boolean;
}

export interface FulfillmentStarter {
  /** Starts the fulfillment of a basket once; calling it again for the same basket changes nothing. */
  ensureStarted(request: FulfillmentRequest, hint?: StartHint): Promise<void>;
}
