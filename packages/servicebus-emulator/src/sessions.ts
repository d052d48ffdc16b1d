import type { Timer } from './clock';
import type { Consumer, StoredMessage } from './entities';
import { SeqQueue } from './seqQueue';

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
