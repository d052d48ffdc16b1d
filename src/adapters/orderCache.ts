import type { StoredOrder } from './ports';

/**
 * The order records this instance last read or wrote, with their ETags, so the next event of a
 * basket whose session this instance holds saves without reading first. It is only a guess: every
 * save is still guarded by the ETag, so a stale entry (a replay, a redelivery to another instance, a
 * lost lock) ends in a ConcurrencyConflictError, and the caller forgets the entry and re-reads.
 *
 * Bounded: at most `maxEntries` baskets (the least recently used go first), and an entry unused for
 * `idleMs` is dropped (the worker is not told when a session closes, so idleness stands for it).
 */
export interface OrderCacheOptions {
  maxEntries: number;
  idleMs: number;
  nowMs?: () => number;
}

interface Entry {
  stored: StoredOrder;
  usedAtMs: number;
}

export class OrderCache {
  // A Map iterates in insertion order; every use re-inserts, so the first entry is the least recently used.
  private readonly entries = new Map<string, Entry>();
  private readonly nowMs: () => number;

  constructor(private readonly options: OrderCacheOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1)
      throw new Error(`OrderCache maxEntries must be a whole number ≥ 1, got ${String(options.maxEntries)}`);
    if (!(options.idleMs > 0)) throw new Error(`OrderCache idleMs must be > 0, got ${String(options.idleMs)}`);
    this.nowMs = options.nowMs ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get(basketId: string): StoredOrder | undefined {
    this.dropIdle();
    const entry = this.entries.get(basketId);
    if (entry === undefined) return undefined;
    this.entries.delete(basketId);
    entry.usedAtMs = this.nowMs();
    this.entries.set(basketId, entry);
    return entry.stored;
  }

  set(basketId: string, stored: StoredOrder): void {
    this.entries.delete(basketId);
    this.entries.set(basketId, { stored, usedAtMs: this.nowMs() });
    this.dropIdle();
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.options.maxEntries) break;
      this.entries.delete(oldest);
    }
  }

  forget(basketId: string): void {
    this.entries.delete(basketId);
  }

  /** Oldest first, so this stops at the first entry still in use: O(dropped). */
  private dropIdle(): void {
    const cutoff = this.nowMs() - this.options.idleMs;
    for (const [basketId, entry] of this.entries) {
      if (entry.usedAtMs > cutoff) break;
      this.entries.delete(basketId);
    }
  }
}
