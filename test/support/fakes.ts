import type { EventEnvelope } from '../../src/domain/events';
import {
  orderRecordSchema,
  quarantinedMessageSchema,
  type OrderRecord,
  type QuarantinedMessage,
} from '../../src/domain/orderRecord';
import { maxJsonChars } from '../../src/adapters/jsonColumns';
import { storedChars } from '../../src/domain/recordBudget';
import type { RetryClock } from '../../src/application/holdAndRetry';
import {
  ConcurrencyConflictError,
  RecordTooLargeError,
  type DeadLetter,
  type DeadLetterQueue,
  type DeadLetterScan,
  type EventPublisher,
  type LockedDeadLetters,
  type FulfillmentRequest,
  type FulfillmentStarter,
  type OrderStore,
  type PublishOptions,
  type QuarantineStore,
  type StartHint,
  type StoredOrder,
} from '../../src/adapters/ports';

/**
 * In-memory fakes of the ports (and only of the ports), behaving like the real adapters where a
 * handler can tell: records go through JSON and their schema like the Table adapters' columns
 * (so a record the real store could not read back fails here too), ETags guard writes, quarantine
 * is idempotent per message id, a record over the entity limit is refused before any write like
 * the Table adapter does (RecordTooLargeError). `failNext` makes the next call of an operation throw, to drive transient paths.
 */

type Operation<T> = keyof T & string;

/** What the Table adapters do to a record: JSON out, schema-checked JSON back in. */
function roundTrip<T>(schema: { parse: (value: unknown) => T }, value: T): T {
  return schema.parse(JSON.parse(JSON.stringify(value)));
}

/** The error the Table adapter throws for a record that cannot fit one entity, if this one cannot. */
function tooLarge(record: OrderRecord): RecordTooLargeError | undefined {
  const chars = storedChars(record);
  return chars > maxJsonChars
    ? new RecordTooLargeError(
        `Order ${record.basketId} serializes to ${String(chars)} characters (max ${String(maxJsonChars)}).`,
      )
    : undefined;
}

class FailureSchedule<T> {
  readonly #failures = new Map<string, Error[]>();

  failNext(operation: Operation<T>, error: Error = new Error(`${operation} failed (injected)`)): void {
    this.#failures.set(operation, [...(this.#failures.get(operation) ?? []), error]);
  }

  throwIfScheduled(operation: Operation<T>): void {
    const [error, ...rest] = this.#failures.get(operation) ?? [];
    if (error === undefined) return;
    this.#failures.set(operation, rest);
    throw error;
  }
}

export class InMemoryOrderStore implements OrderStore {
  readonly #rows = new Map<string, StoredOrder>();
  readonly #failures = new FailureSchedule<OrderStore>();
  #etagCounter = 0;
  /** Every successful write, in order: what the handler persisted. */
  readonly writes: OrderRecord[] = [];

  failNext(operation: Operation<OrderStore>, error?: Error): void {
    this.#failures.failNext(operation, error);
  }

  get(basketId: string): Promise<StoredOrder | undefined> {
    this.#failures.throwIfScheduled('get');
    const row = this.#rows.get(basketId);
    return Promise.resolve(
      row === undefined ? undefined : { record: roundTrip(orderRecordSchema, row.record), etag: row.etag },
    );
  }

  create(record: OrderRecord): Promise<string> {
    this.#failures.throwIfScheduled('create');
    const refused = tooLarge(record);
    if (refused !== undefined) return Promise.reject(refused);
    if (this.#rows.has(record.basketId)) return Promise.reject(new ConcurrencyConflictError(record.basketId));
    return Promise.resolve(this.#store(record));
  }

  replace(record: OrderRecord, etag: string): Promise<string> {
    this.#failures.throwIfScheduled('replace');
    const refused = tooLarge(record);
    if (refused !== undefined) return Promise.reject(refused);
    if (this.#rows.get(record.basketId)?.etag !== etag)
      return Promise.reject(new ConcurrencyConflictError(record.basketId));
    return Promise.resolve(this.#store(record));
  }

  /** Test-side access without failure injection. */
  peek(basketId: string): OrderRecord | undefined {
    const row = this.#rows.get(basketId);
    return row === undefined ? undefined : roundTrip(orderRecordSchema, row.record);
  }

  /** Seeds or overwrites a row as another writer would, changing its ETag. */
  put(record: OrderRecord): string {
    return this.#store(record);
  }

  #store(record: OrderRecord): string {
    this.#etagCounter += 1;
    const etag = `W/"${String(this.#etagCounter)}"`;
    const stored = roundTrip(orderRecordSchema, record);
    this.#rows.set(record.basketId, { record: stored, etag });
    this.writes.push(structuredClone(stored));
    return etag;
  }
}

export class InMemoryQuarantineStore implements QuarantineStore {
  readonly #messages = new Map<string, QuarantinedMessage>();
  readonly #failures = new FailureSchedule<QuarantineStore>();

  failNext(operation: Operation<QuarantineStore>, error?: Error): void {
    this.#failures.failNext(operation, error);
  }

  add(message: QuarantinedMessage): Promise<void> {
    this.#failures.throwIfScheduled('add');
    if (!this.#messages.has(message.messageId))
      this.#messages.set(message.messageId, roundTrip(quarantinedMessageSchema, message));
    return Promise.resolve();
  }

  list(limit: number): Promise<QuarantinedMessage[]> {
    this.#failures.throwIfScheduled('list');
    const newestFirst = [...this.#messages.values()].sort((a, b) => b.quarantinedAt.localeCompare(a.quarantinedAt));
    return Promise.resolve(newestFirst.slice(0, limit).map((message) => structuredClone(message)));
  }

  get(messageId: string): Promise<QuarantinedMessage | undefined> {
    this.#failures.throwIfScheduled('get');
    const found = this.#messages.get(messageId);
    return Promise.resolve(found === undefined ? undefined : structuredClone(found));
  }

  remove(messageId: string): Promise<void> {
    this.#failures.throwIfScheduled('remove');
    this.#messages.delete(messageId);
    return Promise.resolve();
  }

  get size(): number {
    return this.#messages.size;
  }
}

export class RecordingFulfillmentStarter implements FulfillmentStarter {
  readonly #failures = new FailureSchedule<FulfillmentStarter>();
  /** Every call, including repeated ones. */
  readonly calls: FulfillmentRequest[] = [];
  /** Orchestrations actually started: one per basket, like `fulfill-<basketId>` instance ids. */
  readonly started = new Map<string, FulfillmentRequest>();

  failNext(operation: Operation<FulfillmentStarter>, error?: Error): void {
    this.#failures.failNext(operation, error);
  }

  /** The hint of every call, in the order of `calls`. */
  readonly hints: (StartHint | undefined)[] = [];

  ensureStarted(request: FulfillmentRequest, hint?: StartHint): Promise<void> {
    this.calls.push(structuredClone(request));
    this.hints.push(hint);
    this.#failures.throwIfScheduled('ensureStarted');
    if (!this.started.has(request.basketId)) this.started.set(request.basketId, structuredClone(request));
    return Promise.resolve();
  }
}

export class RecordingEventPublisher implements EventPublisher {
  readonly #failures = new FailureSchedule<EventPublisher>();
  readonly published: { event: EventEnvelope; options?: PublishOptions }[] = [];
  closed = false;

  failNext(operation: Operation<EventPublisher>, error?: Error): void {
    this.#failures.failNext(operation, error);
  }

  publish(events: readonly { event: EventEnvelope; options?: PublishOptions }[]): Promise<void> {
    this.#failures.throwIfScheduled('publish');
    this.published.push(...events.map((entry) => structuredClone(entry)));
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** The hold's clock: sleeping advances fake time and is recorded; calls themselves take none. */
export class FakeRetryClock implements RetryClock {
  now = 0;
  readonly sleeps: number[] = [];
  constructor(private readonly randomValue = 1) {}
  nowMs(): number {
    return this.now;
  }
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.now += ms;
    return Promise.resolve();
  }
  random(): number {
    return this.randomValue;
  }
}

/** A clock that only moves when told to. */
export class ManualClock {
  #now: Date;

  constructor(start = '2026-01-01T00:00:00.000Z') {
    this.#now = new Date(start);
  }

  readonly now = (): Date => new Date(this.#now.getTime());

  advance(ms: number): void {
    this.#now = new Date(this.#now.getTime() + ms);
  }
}

/**
 * The dead-letter sub-queue: letters in broker order; lockSession hands out the session's letters
 * and complete() removes one, like the Service Bus adapter.
 */
export class InMemoryDeadLetterQueue implements DeadLetterQueue {
  readonly letters: { letter: DeadLetter; body: unknown }[] = [];
  readonly #failures = new FailureSchedule<DeadLetterQueue>();

  failNext(operation: Operation<DeadLetterQueue>, error?: Error): void {
    this.#failures.failNext(operation, error);
  }

  add(letter: DeadLetter, body: unknown): void {
    this.letters.push({ letter: structuredClone(letter), body: structuredClone(body) });
  }

  peek(sessionId: string | undefined, maxScanned: number): Promise<DeadLetterScan> {
    this.#failures.throwIfScheduled('peek');
    const scanned = this.letters.slice(0, maxScanned);
    return Promise.resolve({
      messages: scanned
        .filter(({ letter }) => sessionId === undefined || letter.sessionId === sessionId)
        .map(({ letter }) => structuredClone(letter)),
      scanned: scanned.length,
      complete: scanned.length === this.letters.length,
    });
  }

  async lockSession(sessionId: string, maxScanned: number): Promise<LockedDeadLetters> {
    const scan = await this.peek(sessionId, maxScanned);
    this.#failures.throwIfScheduled('lockSession');
    const mine = this.letters.slice(0, maxScanned).filter(({ letter }) => letter.sessionId === sessionId);
    return {
      ...scan,
      locked: mine.map((entry) => ({
        letter: structuredClone(entry.letter),
        body: structuredClone(entry.body),
        complete: () => {
          const at = this.letters.indexOf(entry);
          if (at >= 0) this.letters.splice(at, 1);
          return Promise.resolve();
        },
      })),
      release: () => Promise.resolve(),
    };
  }
}
