import { randomUUID } from 'node:crypto';
import type { Clock, Timer } from './clock';
import {
  conditions,
  encodeDelivery,
  typed,
  withApplicationProperties,
  type AmqpErrorShape,
  type ParsedMessage,
} from './codec';
import type { ReceivableSettings } from './config';
import { acceptedRecord, type JournalRecord, type JournalSink, type RecoveredEntity } from './journal';
import {
  SessionState,
  type Consumer,
  type MessageLock,
  type SessionClaim,
  type SessionWaiter,
  type StoredMessage,
} from './entityState';
import { SeqQueue } from './seqQueue';

export type SettleOutcome =
  | { kind: 'complete' }
  | { kind: 'abandon'; properties?: Record<string, unknown> }
  /** AMQP `released`: back to the queue without counting a delivery (AMQP 1.0 §3.4.4). */
  | { kind: 'release' }
  | { kind: 'defer'; properties?: Record<string, unknown> }
  | {
      kind: 'deadLetter';
      reason?: string | undefined;
      description?: string | undefined;
      properties?: Record<string, unknown>;
    };

export type SettleResult = { ok: true } | { ok: false; error: AmqpErrorShape };

export interface EntityHooks {
  /** Where dead-lettered messages of this entity go (undefined: this is a dead-letter queue). */
  deadLetterTarget(): MessageEntity | undefined;
  log(line: string): void;
  /** Write-ahead journal (--data-dir); absent = in memory only. */
  journal?: JournalSink | undefined;
  /** A message was completed (the namespace's CompletionLedger, when it keeps them). */
  completed?: (entity: MessageEntity, message: StoredMessage) => void;
}

export class MessageEntity {
  private nextSeq = 1;
  readonly messages = new Map<number, StoredMessage>();
  private readonly ready = new SeqQueue<StoredMessage>();
  readonly sessions = new Map<string, SessionState>();
  /** Sessions with visible messages and no owner, in the order they became available. */
  private readonly idleSessions = new Set<SessionState>();
  private readonly locks = new Map<string, StoredMessage>();
  private readonly consumers: Consumer[] = [];
  private readonly waiters: SessionWaiter[] = [];
  private roundRobin = 0;
  private lastSweep = 0;

  constructor(
    readonly path: string,
    readonly settings: ReceivableSettings,
    private readonly clock: Clock,
    private readonly hooks: EntityHooks,
  ) {}

  get requiresSession(): boolean {
    return this.settings.requiresSession;
  }

  /** Only a dead-letter queue has nowhere to dead-letter to. */
  private get isDeadLetterQueue(): boolean {
    return this.hooks.deadLetterTarget() === undefined;
  }

  /**
   * A delivery that ended without consuming the message counts. A dead-letter queue counts none: the
   * copy keeps the count it arrived with (the JS SDK's live tests: abandoned there, it comes back as it was).
   */
  private countDelivery(message: StoredMessage): void {
    if (this.isDeadLetterQueue) return;
    message.deliveryCount++;
    this.hooks.journal?.counted(this.path, message.seq, message.deliveryCount);
  }

  // ---- arrival -------------------------------------------------------------------------------

  /** Validates a message for this entity without storing it. */
  check(parsed: ParsedMessage): AmqpErrorShape | undefined {
    if (this.requiresSession && parsed.sessionId === undefined) {
      return {
        condition: conditions.notAllowed,
        description: `The SessionId was not set on a message, and it cannot be sent to the entity '${this.path}'. Entities that have session support enabled can only receive messages that have the SessionId set.`,
      };
    }
    if (this.requiresSession && parsed.sessionId === '') {
      // Accepted, it would sit in a session no receiver can name: refuse it as the service does.
      return {
        condition: conditions.notAllowed,
        description: `The SessionId of a message sent to the session-enabled entity '${this.path}' is empty; set a non-empty SessionId.`,
      };
    }
    return undefined;
  }

  /** Stores a message: scheduled when its enqueue time is in the future, else visible now. */
  accept(
    parsed: ParsedMessage,
    extra?: { bodyBytes?: Buffer; deadLetterSource?: string; deliveryCount?: number },
  ): StoredMessage {
    const now = this.clock.now();
    const scheduledFor = scheduledTime(parsed.annotations['x-opt-scheduled-enqueue-time']);
    const message: StoredMessage = {
      seq: this.nextSeq++,
      parsed,
      bodyBytes: extra?.bodyBytes,
      enqueuedAt: now,
      expiresAt: Infinity,
      deliveryCount: extra?.deliveryCount ?? 0,
      state: 'active',
      scheduleTimer: undefined,
      lock: undefined,
      deadLetterSource: extra?.deadLetterSource,
      gone: false,
    };
    this.messages.set(message.seq, message);
    if (this.requiresSession && parsed.sessionId !== undefined) this.session(parsed.sessionId).total++;
    if (scheduledFor !== undefined && scheduledFor > now) {
      message.state = 'scheduled';
      message.enqueuedAt = scheduledFor;
      message.scheduleTimer = this.clock.setTimer(scheduledFor - now, () => {
        message.scheduleTimer = undefined;
        this.activate(message);
      });
      this.hooks.journal?.accepted(this.path, message);
      return message;
    }
    this.activate(message, now);
    // After activate: expiresAt is known. Journaled before the caller acknowledges the send.
    this.hooks.journal?.accepted(this.path, message);
    return message;
  }

  /** `now`: the caller's reading of the clock, when it has just taken one (the hot send path). */
  private activate(message: StoredMessage, now = this.clock.now()): void {
    if (message.gone) return;
    message.state = 'active';
    message.enqueuedAt = Math.min(message.enqueuedAt, now);
    const ttl = Math.min(message.parsed.header.ttlMs ?? Infinity, this.settings.defaultTtlMs);
    message.expiresAt = message.enqueuedAt + ttl;
    this.makeVisible(message);
  }

  cancelScheduled(seq: number): boolean {
    const message = this.messages.get(seq);
    if (message?.state !== 'scheduled') return false;
    message.scheduleTimer?.cancel();
    this.remove(message);
    return true;
  }

  private makeVisible(message: StoredMessage): void {
    const sessionId = message.parsed.sessionId;
    if (this.requiresSession && sessionId !== undefined) {
      const session = this.session(sessionId);
      session.ready.push(message);
      if (session.owner !== undefined) this.pumpSession(session);
      else {
        this.idleSessions.add(session);
        this.serveWaiters();
      }
      return;
    }
    this.ready.push(message);
    this.pump();
  }

  session(id: string): SessionState {
    let session = this.sessions.get(id);
    if (session === undefined) {
      session = new SessionState(id, this.clock.now());
      this.sessions.set(id, session);
    }
    return session;
  }

  // ---- delivery ------------------------------------------------------------------------------

  addConsumer(consumer: Consumer): void {
    this.consumers.push(consumer);
    this.pump();
  }

  removeConsumer(consumer: Consumer): void {
    const index = this.consumers.indexOf(consumer);
    if (index >= 0) this.consumers.splice(index, 1);
  }

  /** Hands visible messages to consumers with credit, round robin. */
  pump(): void {
    if (this.requiresSession || this.consumers.length === 0) return;
    let idle = 0;
    while (this.ready.size > 0 && idle < this.consumers.length) {
      const consumer = this.consumers[this.roundRobin % this.consumers.length];
      this.roundRobin = (this.roundRobin + 1) % Math.max(1, this.consumers.length);
      if (consumer === undefined || consumer.credit() <= 0) {
        idle++;
        continue;
      }
      idle = 0;
      const message = this.takeVisible(this.ready);
      if (message === undefined) break;
      this.handOut(message, consumer, undefined);
    }
  }

  pumpSession(session: SessionState): void {
    const owner = session.owner;
    if (owner === undefined) return;
    while (session.ready.size > 0 && owner.consumer.credit() > 0) {
      const message = this.takeVisible(session.ready);
      if (message === undefined) break;
      this.handOut(message, owner.consumer, session);
    }
  }

  /** Next visible message, expiring the ones whose time-to-live ran out on the way. */
  private takeVisible(queue: SeqQueue<StoredMessage>): StoredMessage | undefined {
    const now = this.clock.now();
    for (;;) {
      const message = queue.shift();
      if (message === undefined) return undefined;
      if (message.gone || message.state !== 'active' || message.lock !== undefined) continue;
      if (message.expiresAt <= now) {
        this.expire(message);
        continue;
      }
      return message;
    }
  }

  private handOut(message: StoredMessage, consumer: Consumer, session: SessionState | undefined): void {
    if (consumer.mode === 'receiveAndDelete') {
      this.remove(message);
      consumer.deliver(message, undefined);
      return;
    }
    const token = this.lock(message, session);
    consumer.deliver(message, token);
  }

  /** Locks a message for a receiver; in a session the message lock follows the session lock. */
  lock(message: StoredMessage, session: SessionState | undefined): string {
    const token = randomUUID();
    const now = this.clock.now();
    const lock: MessageLock = { token, until: now + this.settings.lockDurationMs, timer: undefined, session };
    if (session?.owner !== undefined) {
      lock.until = session.owner.lockedUntil;
      session.locked.add(message);
    } else {
      lock.timer = this.clock.setTimer(this.settings.lockDurationMs, () => {
        lock.timer = undefined;
        if (message.lock === lock) this.lockExpired(message);
      });
    }
    message.lock = lock;
    this.locks.set(token, message);
    return token;
  }

  private unlock(message: StoredMessage): void {
    const lock = message.lock;
    if (lock === undefined) return;
    lock.timer?.cancel();
    lock.session?.locked.delete(message);
    this.locks.delete(lock.token);
    message.lock = undefined;
    message.giveBackOnComplete = undefined;
  }

  private lockExpired(message: StoredMessage): void {
    this.hooks.log(`lock expired on ${this.path} #${message.seq}`);
    this.unlock(message);
    this.redeliverLater(message);
  }

  /** A delivery that was not settled: count it and make it visible again (or dead-letter it). */
  private redeliverLater(message: StoredMessage): void {
    this.countDelivery(message);
    if (message.state === 'deferred') return;
    if (message.deliveryCount >= this.settings.maxDeliveryCount && !this.isDeadLetterQueue) {
      this.deadLetter(
        message,
        'MaxDeliveryCountExceeded',
        `Message could not be consumed after ${this.settings.maxDeliveryCount} delivery attempts.`,
      );
      return;
    }
    this.makeVisible(message);
  }

  /** The message a lock token refers to, if the lock is still held. */
  locked(token: string): StoredMessage | undefined {
    const message = this.locks.get(token);
    if (message?.lock === undefined) return undefined;
    if (message.lock.until <= this.clock.now()) {
      // The timer has not fired yet (manual clocks): the lock is gone all the same.
      if (message.lock.session === undefined) this.lockExpired(message);
      return undefined;
    }
    return message;
  }

  settle(token: string, outcome: SettleOutcome): SettleResult {
    const message = this.locked(token);
    if (message === undefined) {
      return {
        ok: false,
        error: {
          condition: conditions.messageLockLost,
          description: `The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue '${this.path}'.`,
        },
      };
    }
    if (outcome.kind === 'deadLetter' && this.isDeadLetterQueue) {
      // Refused as Service Bus refuses it (amqp:not-allowed). The message goes back uncounted, so the
      // next receive gets it with the same delivery count (batchReceiver.spec.ts in the JS SDK).
      this.settle(token, { kind: 'release' });
      return {
        ok: false,
        error: {
          condition: conditions.notAllowed,
          description: `The message #${String(message.seq)} is in the dead-letter queue '${this.path}' and cannot be dead-lettered again; complete, abandon or defer it.`,
        },
      };
    }
    const giveBack = message.giveBackOnComplete === true;
    this.unlock(message);
    switch (outcome.kind) {
      case 'complete':
        if (giveBack) {
          this.hooks.log(`completion of ${this.path} #${message.seq} given back: it is delivered again`);
          if (message.state !== 'deferred') this.makeVisible(message);
          break;
        }
        this.remove(message);
        this.hooks.completed?.(this, message);
        break;
      case 'abandon':
        this.redeliverLater(message);
        break;
      case 'release':
        this.hooks.log(`released ${this.path} #${message.seq} (delivery count stays ${message.deliveryCount})`);
        if (message.state !== 'deferred') this.makeVisible(message);
        break;
      case 'defer':
        // Counted as an abandon is (Service Bus: received once, deferred, received by sequence number → 1).
        this.countDelivery(message);
        message.state = 'deferred';
        this.hooks.journal?.deferred(this.path, message.seq);
        break;
      case 'deadLetter':
        this.deadLetter(message, outcome.reason, outcome.description, outcome.properties);
        break;
      default: {
        const unreachable: never = outcome;
        return unreachable;
      }
    }
    return { ok: true };
  }

  /**
   * Puts a completed message back with its own sequence number (CompletionLedger): visible again, in
   * its place before later messages of its session. False when the entity still has it.
   */
  reinstate(completed: StoredMessage): boolean {
    if (this.messages.has(completed.seq)) return false;
    const message: StoredMessage = { ...completed, lock: undefined, scheduleTimer: undefined, gone: false };
    this.messages.set(message.seq, message);
    if (this.requiresSession && message.parsed.sessionId !== undefined) this.session(message.parsed.sessionId).total++;
    this.hooks.journal?.accepted(this.path, message);
    if (message.state !== 'deferred') this.makeVisible(message);
    return true;
  }

  /** Marks every locked message so that its completion gives it back; returns how many. */
  giveBackLockedOnComplete(): number {
    for (const message of this.locks.values()) message.giveBackOnComplete = true;
    return this.locks.size;
  }

  /** receive-by-sequence-number in receiveAndDelete mode. */
  removeDeferred(message: StoredMessage): void {
    if (message.state === 'deferred') this.remove(message);
  }

  renewLock(token: string): number | undefined {
    const message = this.locked(token);
    const lock = message?.lock;
    if (message === undefined || lock === undefined || lock.session !== undefined) return undefined;
    lock.timer?.cancel();
    lock.until = this.clock.now() + this.settings.lockDurationMs;
    lock.timer = this.clock.setTimer(this.settings.lockDurationMs, () => {
      lock.timer = undefined;
      if (message.lock === lock) this.lockExpired(message);
    });
    return lock.until;
  }

  private remove(message: StoredMessage): void {
    this.unlock(message);
    message.gone = true;
    this.messages.delete(message.seq);
    this.hooks.journal?.removed(this.path, message.seq);
    const sessionId = message.parsed.sessionId;
    if (this.requiresSession && sessionId !== undefined) {
      const session = this.sessions.get(sessionId);
      if (session !== undefined) {
        session.total--;
        session.updatedAt = this.clock.now();
        this.forgetIfEmpty(session);
      }
    }
  }

  private expire(message: StoredMessage): void {
    if (this.settings.deadLetterOnExpiration && this.hooks.deadLetterTarget() !== undefined) {
      this.deadLetter(message, 'TTLExpiredException', 'The message expired and was dead lettered.');
    } else {
      this.hooks.log(`message ${this.path} #${message.seq} expired`);
      this.remove(message);
    }
  }

  deadLetter(
    message: StoredMessage,
    reason: string | undefined,
    description: string | undefined,
    properties?: Record<string, unknown>,
  ): void {
    const journal = this.hooks.journal;
    // One journal write for the removal and the dead-lettered copy: a crash keeps one or the other.
    if (journal !== undefined) {
      journal.batch(() => {
        this.deadLetterNow(message, reason, description, properties);
      });
      return;
    }
    this.deadLetterNow(message, reason, description, properties);
  }

  private deadLetterNow(
    message: StoredMessage,
    reason: string | undefined,
    description: string | undefined,
    properties?: Record<string, unknown>,
  ): void {
    const target = this.hooks.deadLetterTarget();
    this.remove(message);
    if (target === undefined) return;
    const extra: Record<string, unknown> = { ...(properties ?? {}) };
    if (reason !== undefined) extra.DeadLetterReason = reason;
    if (description !== undefined) extra.DeadLetterErrorDescription = description;
    target.accept(message.parsed, {
      bodyBytes: withApplicationProperties(
        {
          applicationProperties: message.parsed.applicationProperties,
          bodyBytes: message.bodyBytes ?? message.parsed.bodyBytes,
        },
        extra,
      ),
      deadLetterSource: this.path,
      // The copy keeps the deliveries counted so far (Service Bus: MaxDeliveryCountExceeded copies show the maximum).
      deliveryCount: message.deliveryCount,
    });
  }

  /** Expired messages at the back of a queue are found when something looks (receive, peek, stats). */
  sweepExpired(force = false): void {
    const now = this.clock.now();
    if (!force && now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    const expired = (m: StoredMessage): boolean => m.state === 'active' && m.lock === undefined && m.expiresAt <= now;
    for (const message of this.ready.removeWhere(expired)) this.expire(message);
    for (const session of this.sessions.values()) {
      for (const message of session.ready.removeWhere(expired)) this.expire(message);
    }
  }

  // ---- sessions ------------------------------------------------------------------------------

  /** Locks a named session for `owner`, or the next idle one when `id` is undefined. */
  acceptSession(id: string | undefined, owner: SessionClaim): SessionState | 'locked' | 'none' {
    let session: SessionState | undefined;
    if (id !== undefined) {
      session = this.session(id);
      if (session.owner !== undefined) return 'locked';
    } else {
      session = this.nextIdleSession();
      if (session === undefined) return 'none';
    }
    this.lockSession(session, owner);
    return session;
  }

  private nextIdleSession(): SessionState | undefined {
    for (const session of this.idleSessions) {
      if (session.owner === undefined && session.ready.size > 0) return session;
      this.idleSessions.delete(session);
    }
    return undefined;
  }

  private lockSession(session: SessionState, owner: SessionClaim): void {
    this.idleSessions.delete(session);
    const lockedUntil = this.clock.now() + this.settings.lockDurationMs;
    session.owner = { ...owner, lockedUntil, timer: this.sessionTimer(session, this.settings.lockDurationMs) };
  }

  private sessionTimer(session: SessionState, delayMs: number): Timer {
    // Renewal and release cancel this timer, so an owner present when it fires is the one it was set for.
    return this.clock.setTimer(delayMs, () => {
      const current = session.owner;
      if (current !== undefined) {
        this.hooks.log(`session lock expired on ${this.path} session "${session.id}"`);
        const lost = current.onLost;
        this.releaseSession(session, current.consumer);
        lost();
      }
    });
  }

  renewSessionLock(id: string): number | undefined {
    const session = this.sessions.get(id);
    const owner = session?.owner;
    if (session === undefined || owner === undefined || owner.lockedUntil <= this.clock.now()) return undefined;
    owner.timer.cancel();
    owner.lockedUntil = this.clock.now() + this.settings.lockDurationMs;
    owner.timer = this.sessionTimer(session, this.settings.lockDurationMs);
    for (const message of session.locked) {
      if (message.lock !== undefined) message.lock.until = owner.lockedUntil;
    }
    return owner.lockedUntil;
  }

  /** Ends a session lock (receiver closed or lock expired); its unsettled messages count a delivery. */
  releaseSession(session: SessionState, consumer: Consumer): void {
    const owner = session.owner;
    if (owner?.consumer !== consumer) return;
    owner.timer.cancel();
    session.owner = undefined;
    const unsettled = [...session.locked];
    for (const message of unsettled) {
      this.unlock(message);
      this.redeliverLater(message);
    }
    if (session.ready.size > 0) {
      this.idleSessions.add(session);
      this.serveWaiters();
    }
    this.forgetIfEmpty(session);
  }

  private forgetIfEmpty(session: SessionState): void {
    if (session.owner === undefined && session.total === 0 && session.state === undefined) {
      this.sessions.delete(session.id);
      this.idleSessions.delete(session);
    }
  }

  /** Parks a next-available request until a session frees up; returns a cancel function. */
  waitForSession(waiter: SessionWaiter): () => void {
    this.waiters.push(waiter);
    this.serveWaiters();
    return () => {
      const index = this.waiters.indexOf(waiter);
      if (index >= 0) this.waiters.splice(index, 1);
    };
  }

  private serveWaiters(): void {
    while (this.waiters.length > 0) {
      const session = this.nextIdleSession();
      if (session === undefined) return;
      const waiter = this.waiters.shift();
      if (waiter === undefined) return;
      this.lockSession(session, waiter.owner);
      waiter.granted(session);
    }
  }

  setSessionState(id: string, state: Buffer | undefined): void {
    const session = this.session(id);
    session.state = state;
    session.updatedAt = this.clock.now();
    this.hooks.journal?.sessionState(this.path, id, state);
    this.forgetIfEmpty(session);
  }

  /** Sessions with messages or state, the way get-message-sessions lists them. */
  listSessions(skip: number, top: number): string[] {
    const ids: string[] = [];
    for (const session of this.sessions.values()) {
      if (session.total > 0 || session.state !== undefined) ids.push(session.id);
    }
    return ids.slice(skip, skip + top);
  }

  // ---- inspection ----------------------------------------------------------------------------

  /** Messages from `fromSeq` on, in sequence order, the way peek returns them. */
  peek(fromSeq: number, count: number, sessionId: string | undefined): StoredMessage[] {
    this.sweepExpired(true);
    const found: StoredMessage[] = [];
    for (const message of this.messages.values()) {
      if (found.length >= count) break;
      if (message.seq < fromSeq) continue;
      if (sessionId !== undefined && message.parsed.sessionId !== sessionId) continue;
      found.push(message);
    }
    return found;
  }

  /** Encodes a message as a receiver sees it: broker annotations plus the original sections. */
  encode(message: StoredMessage): Buffer {
    const annotations: Record<string, unknown> = { ...message.parsed.annotations };
    annotations['x-opt-sequence-number'] = typed.long(message.seq);
    annotations['x-opt-enqueued-time'] = typed.timestamp(message.enqueuedAt);
    if (message.lock !== undefined) annotations['x-opt-locked-until'] = typed.timestamp(message.lock.until);
    if (message.state === 'deferred') annotations['x-opt-message-state'] = typed.int(1);
    else if (message.state === 'scheduled') annotations['x-opt-message-state'] = typed.int(2);
    if (message.deadLetterSource !== undefined)
      annotations['x-opt-deadletter-source'] = typed.string(message.deadLetterSource);
    const parts = { parsed: message.parsed, deliveryCount: message.deliveryCount, annotations };
    return encodeDelivery(message.bodyBytes === undefined ? parts : { ...parts, bodyBytes: message.bodyBytes });
  }

  stats(): EntityStats {
    this.sweepExpired();
    let active = 0;
    let locked = 0;
    let deferred = 0;
    let scheduled = 0;
    for (const message of this.messages.values()) {
      if (message.state === 'scheduled') scheduled++;
      else if (message.state === 'deferred') deferred++;
      else if (message.lock !== undefined) locked++;
      else active++;
    }
    const sessions = [...this.sessions.values()].map((s) => ({
      id: s.id,
      owner: s.owner?.label,
      lockedUntil: s.owner === undefined ? undefined : new Date(s.owner.lockedUntil).toISOString(),
      visible: s.ready.size,
      locked: s.locked.size,
    }));
    return {
      path: this.path,
      active,
      locked,
      deferred,
      scheduled,
      sessions,
      waitingAcceptors: this.waiters.length,
      receivers: this.consumers.length,
    };
  }

  // ---- persistence (--data-dir) ---------------------------------------------------------------

  /**
   * Puts journaled messages back with their sequence numbers, states and delivery counts. Nothing was
   * locked across the restart: every active message is visible again. Call before any send.
   */
  restore(recovered: RecoveredEntity): void {
    this.nextSeq = Math.max(this.nextSeq, recovered.nextSeq);
    const now = this.clock.now();
    for (const item of recovered.messages) {
      const message: StoredMessage = {
        ...item,
        scheduleTimer: undefined,
        lock: undefined,
        gone: false,
      };
      this.messages.set(message.seq, message);
      if (this.requiresSession && message.parsed.sessionId !== undefined)
        this.session(message.parsed.sessionId).total++;
      if (message.state === 'deferred') continue;
      if (message.state === 'scheduled' && message.enqueuedAt > now) {
        message.scheduleTimer = this.clock.setTimer(message.enqueuedAt - now, () => {
          message.scheduleTimer = undefined;
          this.activate(message);
        });
        continue;
      }
      if (message.state === 'scheduled') this.activate(message, now);
      else this.makeVisible(message);
    }
    for (const [id, state] of recovered.sessionStates) this.session(id).state = state;
  }

  /** The journal records that recreate this entity as it is now (compaction). */
  *snapshot(): Generator<JournalRecord> {
    yield { t: 'q', e: this.path, n: this.nextSeq };
    for (const message of this.messages.values()) yield acceptedRecord(this.path, message);
    for (const session of this.sessions.values()) {
      if (session.state !== undefined)
        yield { t: 's', e: this.path, id: session.id, v: session.state.toString('base64') };
    }
  }

  /** Cancels every timer (emulator shutdown). */
  dispose(): void {
    for (const message of this.messages.values()) {
      message.scheduleTimer?.cancel();
      message.lock?.timer?.cancel();
    }
    for (const session of this.sessions.values()) session.owner?.timer.cancel();
    for (const waiter of this.waiters.splice(0)) waiter.cancelled();
  }
}

export interface EntityStats {
  path: string;
  active: number;
  locked: number;
  deferred: number;
  scheduled: number;
  sessions: {
    id: string;
    owner: string | undefined;
    lockedUntil: string | undefined;
    visible: number;
    locked: number;
  }[];
  waitingAcceptors: number;
  receivers: number;
}

function scheduledTime(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  return undefined;
}
