import type { Clock } from './clock';
import type { MessageEntity } from './entities';
import type { StoredMessage } from './entityState';

/**
 * Completed messages kept for a while after their completion, so they can be given back to their
 * entity when the store the consumer wrote to before completing loses its last writes (Azurite saves
 * its tables every 5 s; packages/dev-stack/src/stack.ts). Service Bus keeps nothing of a completed message: this exists
 * only for the local stack (`npm start -- --data-dir`), and only when the emulator is asked for it.
 */
export interface GiveBack {
  /** Completed messages put back into their entity, with their own sequence numbers. */
  messages: number;
  /** Messages locked right now: their completion will put them back instead of removing them. */
  inFlight: number;
}

interface Completion {
  entity: MessageEntity;
  message: StoredMessage;
  at: number;
}

export class CompletionLedger {
  /** In completion order (the clock only moves forward here). */
  private completions: Completion[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly entities: () => Iterable<MessageEntity>,
    private readonly log: (line: string) => void,
  ) {}

  get size(): number {
    return this.completions.length;
  }

  /** Called by an entity when a message was completed. */
  completed(entity: MessageEntity, message: StoredMessage): void {
    this.completions.push({ entity, message, at: this.clock.now() });
  }

  /** Completions at or before `at` are safe (the store had them saved): they are forgotten. */
  forgetUpTo(at: number): void {
    let keepFrom = 0;
    while (keepFrom < this.completions.length && (this.completions[keepFrom]?.at ?? Infinity) <= at) keepFrom++;
    if (keepFrom > 0) this.completions = this.completions.slice(keepFrom);
  }

  /**
   * Gives back every completion after `since` (each to its entity, in its sequence-number place, so a
   * session receives it before its later messages), and marks every message locked now so that its
   * completion gives it back too: the call that holds it may have written to the store that was lost.
   */
  giveBackSince(since: number): GiveBack {
    const later = this.completions.filter((c) => c.at > since);
    this.completions = [];
    let messages = 0;
    for (const { entity, message } of later) if (entity.reinstate(message)) messages++;
    let inFlight = 0;
    for (const entity of this.entities()) inFlight += entity.giveBackLockedOnComplete();
    this.log(
      `gave back ${String(messages)} completed message(s) (completed after ${new Date(since).toISOString()}); ${String(inFlight)} in flight will be given back when completed`,
    );
    return { messages, inFlight };
  }
}
