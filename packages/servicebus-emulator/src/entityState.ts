import type { Timer } from './clock';
import type { ParsedMessage } from './codec';
import { SeqQueue } from './seqQueue';

/*
 * What a receivable entity (queue, subscription, dead-letter queue) holds: its messages, their locks,
 * its sessions and the consumers it delivers to. The entity (entities.ts), the journal and the links
 * all speak of these, so they sit apart from each of them.
 */

/** A message owned by one receivable entity (queue, subscription or dead-letter queue). */
export interface StoredMessage {
  readonly seq: number;
  readonly parsed: ParsedMessage;
  /** Application properties + body when they differ from the original (dead-lettered messages). */
  bodyBytes: Buffer | undefined;
  enqueuedAt: number;
  expiresAt: number;
  deliveryCount: number;
  state: 'active' | 'deferred' | 'scheduled';
  scheduleTimer: Timer | undefined;
  lock: MessageLock | undefined;
  deadLetterSource: string | undefined;
  /** Set once the message left the entity (completed, expired, dead-lettered, cancelled). */
  gone: boolean;
  /** Its completion makes it visible again instead of removing it (CompletionLedger.giveBackSince). */
  giveBackOnComplete?: boolean;
}

export interface MessageLock {
  readonly token: string;
  until: number;
  timer: Timer | undefined;
  /** The session whose lock this message lock follows, if any. */
  session: SessionState | undefined;
}

/** A receiver link (or anything else) that takes deliveries from an entity. */
export interface Consumer {
  readonly mode: 'peekLock' | 'receiveAndDelete';
  /** How many more messages it can take right now. */
  credit(): number;
  deliver(message: StoredMessage, token: string | undefined): void;
}

/** Who holds a session lock, until when, and what to do when the lock runs out. */
export interface SessionOwner {
  consumer: Consumer;
  /** Shown in stats: connection and link name. */
  label: string;
  lockedUntil: number;
  timer: Timer;
  /** Called after the lock expired and the session was released (the link is detached). */
  onLost: () => void;
}

export type SessionClaim = Omit<SessionOwner, 'lockedUntil' | 'timer'>;

/** A next-available accept that is parked until a session frees up. */
export interface SessionWaiter {
  owner: SessionClaim;
  granted(session: SessionState): void;
  /** The emulator is shutting down. */
  cancelled(): void;
}

/** One session of a session-enabled entity: its FIFO of visible messages, lock and state. */
export class SessionState {
  readonly ready = new SeqQueue<StoredMessage>();
  /** Messages delivered under the current session lock and not settled yet. */
  readonly locked = new Set<StoredMessage>();
  owner: SessionOwner | undefined;
  state: Buffer | undefined;
  /** Messages of this session still in the entity, in any state. */
  total = 0;

  constructor(
    readonly id: string,
    public updatedAt: number,
  ) {}
}
