import { stamp, type HistoryEvent, type NewHistoryEvent } from './history';

/**
 * One orchestrator episode: the events appended to the history between OrchestratorStarted and
 * OrchestratorCompleted, and the side effects (activities, timers, entity messages) to start once
 * the episode is committed.
 */
export class Episode {
  readonly events: HistoryEvent[] = [];
  readonly effects: (() => void)[] = [];

  constructor(
    readonly now: Date,
    private readonly sequence: { next: number },
  ) {}

  append(event: NewHistoryEvent, eventId = -1): void {
    this.events.push(stamp(event, this.now, eventId));
  }

  /** The next task sequence number: the id the library gives the task when it tracks it. */
  allocate(): number {
    return this.sequence.next++;
  }
}
