/**
 * Counts outstanding work (queued or running invocations, armed timers) so callers can wait until
 * the backend has nothing left to do.
 */
export class WorkTracker {
  private outstanding = 0;
  private waiters: (() => void)[] = [];

  get pending(): number {
    return this.outstanding;
  }

  /** Marks one unit of work as started; call the returned function exactly once when it ends. */
  begin(): () => void {
    this.outstanding++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.outstanding--;
      // Let follow-up work triggered by this completion register before declaring idle.
      if (this.outstanding === 0)
        setImmediate(() => {
          this.notifyIfIdle();
        });
    };
  }

  whenIdle(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private notifyIfIdle(): void {
    if (this.outstanding !== 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** A FIFO limiter, like the extension's maxConcurrentActivityFunctions / maxConcurrentOrchestratorFunctions. */
export class Limiter {
  private running = 0;
  private queue: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }
}
