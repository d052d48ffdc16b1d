import { ServiceBusError, type ServiceBusReceivedMessage } from '@azure/service-bus';
import * as rhea from 'rhea';
import { errorOf, type EmulatorConnection } from './connection';
import { receivedMessageOf } from './receivedMessage';

const sessionFilter = 'com.microsoft:session-filter';
/** How long close() waits for a drain's answer from a broker that does not give one. */
const drainAnswerLimitMs = 30_000;

/** What SessionPump needs from a session receiver: the SDK's ServiceBusSessionReceiver has it too. */
export interface SessionReceiverLike {
  readonly sessionId: string;
  receiveMessages(maxMessageCount: number, options: { maxWaitTimeInMs: number }): Promise<ServiceBusReceivedMessage[]>;
  completeMessage(message: ServiceBusReceivedMessage): Promise<void>;
  abandonMessage(message: ServiceBusReceivedMessage): Promise<void>;
  close(): Promise<void>;
}

/** .NET ticks (AMQP long, `com.microsoft:locked-until-utc`) → ms since the epoch. */
function ticksToMs(value: unknown): number | undefined {
  let ticks: bigint | undefined;
  if (typeof value === 'number') ticks = BigInt(Math.trunc(value));
  else if (Buffer.isBuffer(value) && value.length === 8) ticks = value.readBigInt64BE(0);
  if (ticks === undefined) return undefined;
  return Number((ticks - 621_355_968_000_000_000n) / 10_000n);
}

interface PendingReceive {
  max: number;
  messages: ServiceBusReceivedMessage[];
  resolve: (messages: ServiceBusReceivedMessage[]) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Begins a session and attaches a receiver whose session filter is left open (no credit yet). */
function attachSessionFilterOpen(
  amqp: rhea.Connection,
  entityPath: string,
  timeoutMs: number,
): { session: rhea.Session; link: rhea.Receiver } {
  const session = amqp.create_session();
  session.begin();
  const link = session.attach_receiver({
    source: { address: entityPath, filter: { [sessionFilter]: null } },
    credit_window: 0,
    autoaccept: false,
    rcv_settle_mode: 1,
    properties: { 'com.microsoft:timeout': rhea.types.wrap_uint(timeoutMs) },
  });
  return { session, link };
}

/**
 * Waits for the broker to lock a session for the attach: resolves to its id and the still-active watch
 * on the connection (the caller replaces it); on a refusal, a timeout or a lost connection the session
 * is ended and the promise rejects with the mapped error.
 */
function lockedSessionOf(
  connection: EmulatorConnection,
  amqp: rhea.Connection,
  entityPath: string,
  session: rhea.Session,
  link: rhea.Receiver,
  timeoutMs: number,
): Promise<{ sessionId: string; unwatch: () => void }> {
  let unwatch: () => void = () => undefined;
  let answered = false;
  return new Promise((resolve, reject) => {
    // The broker answers within timeoutMs (refusing with com.microsoft:timeout); this covers one that does not.
    const timer = setTimeout(() => {
      fail(
        new ServiceBusError(
          `No answer to the session accept on ${entityPath} within ${String(timeoutMs)} ms.`,
          'ServiceTimeout',
        ),
      );
    }, timeoutMs + 2_000);
    function fail(error: unknown): void {
      clearTimeout(timer);
      unwatch();
      link.removeAllListeners();
      // A refusal still to be read detaches with an error: one no listener takes, rhea throws
      // from its read, and the connection ends with every session on it.
      link.on('receiver_error', () => undefined);
      if (answered) endSession(session, link);
      else endOnceAnswered(session, link);
      reject(error instanceof Error ? error : new Error(String(error)));
    }
    link.once('receiver_open', () => {
      answered = true;
      const id = (link.source as { filter?: Record<string, unknown> } | null | undefined)?.filter?.[sessionFilter];
      // A refused attach has no source: the detach with the reason follows.
      if (typeof id !== 'string') return;
      clearTimeout(timer);
      resolve({ sessionId: id, unwatch });
    });
    link.once('receiver_close', () => {
      fail(errorOf(link.error));
    });
    unwatch = connection.watch(amqp, fail);
  });
}

/**
 * A session receiver straight on rhea, with the extension's processor semantics: credit only while a
 * receive waits (prefetch 0), a message that arrives after the wait is released (not a delivery
 * attempt), complete/abandon wait for the broker's settlement, the session lock renewed on
 * $management at half its remaining time up to maxAutoLockRenewalDuration, broker errors mapped to
 * the SDK's codes.
 */
export class EmulatorSessionReceiver implements SessionReceiverLike {
  readonly sessionId: string;
  readonly #entityPath: string;
  readonly #connection: EmulatorConnection;
  readonly #session: rhea.Session;
  readonly #link: rhea.Receiver;
  readonly #deliveries = new WeakMap<ServiceBusReceivedMessage, rhea.Delivery>();
  readonly #settling = new Map<rhea.Delivery, { resolve: () => void; reject: (error: unknown) => void }>();
  #pending: PendingReceive | undefined;
  #lost: ServiceBusError | undefined;
  #closing: Promise<void> | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #unwatch: () => void = () => undefined;
  #connectionGone = false;
  /** close() has written the detach and the end. */
  #ended = false;
  /** Credit granted and not yet used by a delivery. */
  #credit = 0;
  /** Dispositions waiting for their turn (see #dispose); the first is being written. */
  readonly #toDispose: (() => void)[] = [];
  readonly #disposedWaiters: (() => void)[] = [];
  /** Ends the wait for a drain's answer (the connection went). */
  #drainEnded: () => void = () => undefined;

  private constructor(
    connection: EmulatorConnection,
    entityPath: string,
    session: rhea.Session,
    link: rhea.Receiver,
    sessionId: string,
  ) {
    this.#connection = connection;
    this.#entityPath = entityPath;
    this.#session = session;
    this.#link = link;
    this.sessionId = sessionId;
  }

  /** Attaches with the session filter left open: the broker locks the next session with messages. */
  static async acceptNext(
    connection: EmulatorConnection,
    entityPath: string,
    options: { timeoutMs: number; maxAutoLockRenewalDurationMs: number },
  ): Promise<EmulatorSessionReceiver> {
    const amqp = await connection.connectionFor(entityPath);
    const { session, link } = attachSessionFilterOpen(amqp, entityPath, options.timeoutMs);
    const { sessionId, unwatch } = await lockedSessionOf(
      connection,
      amqp,
      entityPath,
      session,
      link,
      options.timeoutMs,
    );
    link.removeAllListeners('receiver_close');
    const receiver = new EmulatorSessionReceiver(connection, entityPath, session, link, sessionId);
    unwatch();
    receiver.#unwatch = connection.watch(amqp, (error) => {
      receiver.#connectionGone = true;
      receiver.#drainEnded();
      receiver.#lose(error);
    });
    receiver.#listen(options.maxAutoLockRenewalDurationMs);
    return receiver;
  }

  #listen(maxRenewalMs: number): void {
    this.#link.on('message', (context: rhea.EventContext) => {
      this.#onMessage(context);
    });
    this.#link.on('settled', (context: rhea.EventContext) => {
      this.#onSettled(context);
    });
    this.#link.on('receiver_close', () => {
      this.#lose(
        errorOf(
          this.#link.error ?? {
            condition: 'com.microsoft:session-lock-lost',
            description: `The link for session ${this.sessionId} was closed.`,
          },
        ),
      );
    });
    const lockedUntil = ticksToMs(
      (this.#link.properties as Record<string, unknown> | undefined)?.['com.microsoft:locked-until-utc'],
    );
    this.#scheduleRenewal(lockedUntil, Date.now() + maxRenewalMs);
  }

  /** A delivery: handed to the waiting receive, or released when none waits (not a delivery attempt). */
  #onMessage(context: rhea.EventContext): void {
    const { delivery, message } = context;
    if (delivery === undefined || message === undefined) return;
    this.#credit = Math.max(0, this.#credit - 1);
    // The detach and end are written: nothing may follow them on this channel (the broker counts
    // the delivery when it takes the session back; the drain in close() keeps this from happening).
    if (this.#ended) return;
    const pending = this.#pending;
    if (pending === undefined || this.#lost !== undefined) {
      this.#dispose(() => {
        delivery.release();
      });
      return;
    }
    const received = receivedMessageOf(message, delivery);
    this.#deliveries.set(received, delivery);
    pending.messages.push(received);
    if (pending.messages.length >= pending.max) this.#finishReceive();
    // Asked for a batch (prefetch): hand over what this read brought instead of waiting out the timeout.
    else if (pending.messages.length === 1)
      setImmediate(() => {
        this.#finishReceive(pending);
      });
  }

  /** The broker's outcome for a complete/abandon: accepted/modified, or rejected with the reason (a lock that is gone). */
  #onSettled(context: rhea.EventContext): void {
    const delivery = context.delivery;
    if (delivery === undefined) return;
    const waiter = this.#settling.get(delivery);
    if (waiter === undefined) return;
    this.#settling.delete(delivery);
    const error = (delivery.remote_state as { error?: unknown } | undefined)?.error;
    if (error !== undefined && error !== null) waiter.reject(errorOf(error));
    else waiter.resolve();
  }

  #scheduleRenewal(lockedUntil: number | undefined, renewUntil: number): void {
    if (lockedUntil === undefined || this.#lost !== undefined || this.#closing !== undefined) return;
    const now = Date.now();
    if (now >= renewUntil) return;
    const delay = Math.max(1_000, Math.min((lockedUntil - now) / 2, renewUntil - now));
    this.#renewTimer = setTimeout(() => {
      this.#connection
        .manage(this.#entityPath, 'com.microsoft:renew-session-lock', { 'session-id': this.sessionId })
        .then((body) => {
          const expiration = body.expiration;
          this.#scheduleRenewal(expiration instanceof Date ? expiration.getTime() : undefined, renewUntil);
        })
        .catch((error: unknown) => {
          if (this.#closing === undefined) this.#lose(error instanceof ServiceBusError ? error : errorOf(error));
        });
    }, delay);
    this.#renewTimer.unref();
  }

  #lose(error: ServiceBusError): void {
    if (this.#lost !== undefined) return;
    this.#lost = error;
    clearTimeout(this.#renewTimer);
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    for (const waiter of this.#settling.values()) waiter.reject(error);
    this.#settling.clear();
  }

  /** Resolves the waiting receive (only `expected`, when given: a later wait is not ended by an old timer). */
  #finishReceive(expected?: PendingReceive): void {
    const pending = this.#pending;
    if (pending === undefined || (expected !== undefined && pending !== expected)) return;
    this.#pending = undefined;
    clearTimeout(pending.timer);
    pending.resolve(pending.messages);
  }

  receiveMessages(
    maxMessageCount: number,
    { maxWaitTimeInMs }: { maxWaitTimeInMs: number },
  ): Promise<ServiceBusReceivedMessage[]> {
    if (this.#lost !== undefined) return Promise.reject(this.#lost);
    if (this.#pending !== undefined) return Promise.reject(new Error('A receive is already waiting on this session.'));
    return new Promise((resolve, reject) => {
      const pending: PendingReceive = { max: maxMessageCount, messages: [], resolve, reject, timer: undefined };
      pending.timer = setTimeout(() => {
        this.#finishReceive(pending);
      }, maxWaitTimeInMs);
      this.#pending = pending;
      // Credit for what is still wanted; credit left over from an earlier wait counts.
      const want = maxMessageCount - this.#credit;
      if (want > 0) {
        this.#credit += want;
        this.#link.add_credit(want);
      }
    });
  }

  #settle(message: ServiceBusReceivedMessage, outcome: 'accept' | 'abandon'): Promise<void> {
    if (this.#lost !== undefined) return Promise.reject(this.#lost);
    const delivery = this.#deliveries.get(message);
    if (delivery === undefined)
      return Promise.reject(new Error('The message was not received by this session receiver.'));
    return new Promise((resolve, reject) => {
      this.#settling.set(delivery, { resolve, reject });
      this.#dispose(() => {
        if (outcome === 'accept') delivery.accept();
        else delivery.modified({ delivery_failed: true, undeliverable_here: false });
      });
    });
  }

  /**
   * rhea 3.0.5 writes the dispositions of one turn on a session as ranges of consecutive deliveries
   * and gives each range the outcome of its first one: a complete and an abandon (or a release) of
   * neighbouring deliveries in one turn would both go out as the complete, and the abandoned message
   * would be gone. So one disposition per turn: the next waits until rhea has written this one.
   */
  #dispose(write: () => void): void {
    this.#toDispose.push(write);
    if (this.#toDispose.length === 1) this.#disposeNext();
  }

  #disposeNext(): void {
    const write = this.#toDispose[0];
    if (write === undefined) {
      for (const flushed of this.#disposedWaiters.splice(0)) flushed();
      return;
    }
    write();
    // rhea writes on process.nextTick; setImmediate runs after it.
    setImmediate(() => {
      this.#toDispose.shift();
      this.#disposeNext();
    });
  }

  /** Resolves once every disposition asked for so far is written. */
  #disposed(): Promise<void> {
    if (this.#toDispose.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#disposedWaiters.push(resolve));
  }

  completeMessage(message: ServiceBusReceivedMessage): Promise<void> {
    return this.#settle(message, 'accept');
  }

  abandonMessage(message: ServiceBusReceivedMessage): Promise<void> {
    return this.#settle(message, 'abandon');
  }

  /**
   * Drain, detach and end: the broker unlocks the session. Credit still out (a wait that timed out)
   * is drained first, so a message already on its way is released while the link is open — not a
   * delivery attempt, as with the extension — instead of counted when the broker takes the session back.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearTimeout(this.#renewTimer);
      this.#lose(new ServiceBusError(`The receiver for session ${this.sessionId} is closed.`, 'SessionLockLost'));
      if (this.#credit > 0 && !this.#connectionGone && this.#link.is_open()) await this.#drain();
      // A release of a message that met the close goes out before the detach.
      await this.#disposed();
      this.#unwatch();
      if (this.#connectionGone || this.#session.is_closed()) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5_000);
        this.#session.once('session_close', () => {
          clearTimeout(timer);
          resolve();
        });
        this.#ended = true;
        endSession(this.#session, this.#link);
      });
    })();
    return this.#closing;
  }

  /**
   * Asks the broker to use up or return the credit and waits for its answer: until then a transfer
   * may be on its way, and one that arrived after the end could not be released (the broker would
   * count it). No short timeout: on a starved machine the answer is read seconds late, and a
   * timer fires first when the process gets the CPU back. Also ended by a detach, the session's end,
   * the connection's loss, or (a broker that never answers) after 30 s.
   */
  #drain(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#link.removeListener('receiver_drained', done);
        this.#link.removeListener('receiver_close', done);
        this.#session.removeListener('session_close', done);
        this.#drainEnded = () => undefined;
        this.#credit = 0;
        resolve();
      };
      const timer = setTimeout(done, drainAnswerLimitMs);
      this.#link.once('receiver_drained', done);
      this.#link.once('receiver_close', done);
      this.#session.once('session_close', done);
      this.#drainEnded = done;
      this.#link.drain_credit();
    });
  }
}

/**
 * Detach, then end. Ending alone leaves rhea to answer a broker's detach a tick later, after the
 * end: a frame on a channel the broker has already closed, which it must treat as a protocol
 * error (rhea's broker drops the whole connection). Closing the link first puts its detach ahead
 * of the end in the same write, and stops rhea's own late answer.
 */
function endSession(session: rhea.Session, link: rhea.Receiver): void {
  link.close();
  session.close();
}

/**
 * An accept given up before the broker answered it (a starved host whose timer fired before it read
 * the answers): rhea takes a begin or attach that arrives after our end or detach as a request to
 * open again and writes them anew after the end, so the broker opens a second session on the channel
 * whose answer reaches rhea after it has dropped the channel — "Invalid value for remote channel",
 * the connection lost. End once the attach (after the begin) is answered; a lost connection needs no end.
 */
function endOnceAnswered(session: rhea.Session, link: rhea.Receiver): void {
  link.once('receiver_open', () => {
    endSession(session, link);
  });
}
