import type { Journal } from './journal';

/**
 * Saves changed instances and entities to the journal once per tick. Every change made in one tick
 * lands in one fsynced journal line, so a restart sees the backend as it was at the end of some
 * tick: an episode's history together with the work it queued, an entity's new state together with
 * the responses and signals it sent.
 */
export class Persistence {
  private readonly dirty = new Set<string>();
  private scheduled: Promise<void> | undefined;
  private last: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly journal: Journal,
    private readonly read: (key: string) => unknown,
    private readonly log: (line: string) => void,
  ) {}

  mark(key: string): void {
    if (this.stopped) return;
    this.dirty.add(key);
    void this.schedule().catch(() => undefined);
  }

  /** Resolves once every change made so far is on disk (what the HTTP API waits for before answering). */
  synced(): Promise<void> {
    return this.dirty.size > 0 ? this.schedule() : this.last;
  }

  /** Writes what is still unsaved, then stops saving (changes made while shutting down are not kept). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    if (this.dirty.size > 0) void this.flush();
    this.stopped = true;
    await this.journal.close();
  }

  private schedule(): Promise<void> {
    this.scheduled ??= new Promise<void>((resolve, reject) => {
      // Deferred so the changes of one tick (and the microtasks it started) go out as one line.
      setImmediate(() => {
        this.scheduled = undefined;
        if (this.stopped) {
          resolve();
          return;
        }
        this.flush().then(resolve, reject);
      });
    });
    return this.scheduled;
  }

  private everything(changed: ReadonlyMap<string, unknown>): Map<string, unknown> {
    const all = new Map(changed);
    for (const key of this.journal.liveKeys) {
      if (all.has(key)) continue;
      const value = this.read(key);
      if (value !== undefined) all.set(key, value);
    }
    return all;
  }

  private flush(): Promise<void> {
    const set = new Map<string, unknown>();
    const del: string[] = [];
    for (const key of this.dirty) {
      const value = this.read(key);
      if (value === undefined) del.push(key);
      else set.set(key, value);
    }
    this.dirty.clear();
    // A grown journal is rewritten with every live record's current value instead of this batch.
    const write = this.journal.grown ? this.journal.rewrite(this.everything(set)) : this.journal.commit(set, del);
    write.catch((error: unknown) => {
      this.log(`durable backend: saving to ${this.journal.file} failed: ${String(error)}`);
    });
    this.last = write;
    return write;
  }
}
