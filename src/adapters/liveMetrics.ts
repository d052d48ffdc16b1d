import { addLatency, publishToAppliedMs, type LatencyHistogram } from '../domain/liveFigures';
import { orderStatuses, type OrderRecord } from '../domain/orderRecord';
import type { ConsoleMetricsStore, StatusCounts } from './consolePorts';

/**
 * The console's live figures, counted in this process's memory and flushed every few seconds to the
 * metrics table: applied events and publish → applied latency per time slot, calls held right now,
 * and status changes as deltas to the shared basket counts. No event pays a storage write for them;
 * one flush per instance per interval does (see docs/console.md for what a crash loses).
 */

export const liveSlotMs = 10_000;
export const flushIntervalMs = 5_000;

interface SlotCounts {
  applied: number;
  latency: LatencyHistogram;
  dirty: boolean;
}

export function slotStart(atMs: number): string {
  return new Date(Math.floor(atMs / liveSlotMs) * liveSlotMs).toISOString();
}

export class LiveMetrics {
  private readonly slots = new Map<string, SlotCounts>();
  private statusDelta: Partial<StatusCounts> = {};
  private held = 0;
  private heldFlushed = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: () => ConsoleMetricsStore,
    private readonly now: () => Date,
    readonly instanceId: string,
  ) {}

  /** Counts what one saved step changed: newly applied events (with latency) and the status move. */
  recordSaved(before: OrderRecord | undefined, after: OrderRecord): void {
    const appliedBefore = before?.lastAppliedSequence ?? 0;
    for (const entry of after.applied) {
      if (entry.sequence <= appliedBefore) continue;
      const slot = this.slotAt(Date.parse(entry.appliedAt));
      slot.applied++;
      const latency = publishToAppliedMs(entry.occurredAt, entry.appliedAt);
      if (latency !== undefined) addLatency(slot.latency, latency);
      slot.dirty = true;
    }
    if (before?.status !== after.status) {
      if (before !== undefined) this.statusDelta[before.status] = (this.statusDelta[before.status] ?? 0) - 1;
      this.statusDelta[after.status] = (this.statusDelta[after.status] ?? 0) + 1;
    }
    this.start();
  }

  /** A call starts holding its message through a transient failure; the returned function ends it. */
  callHeld(): () => void {
    this.held++;
    this.start();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held--;
    };
  }

  get heldCalls(): number {
    return this.held;
  }

  /** Writes what changed since the last flush; a failed write is kept and tried again next time. */
  flush(): Promise<void> {
    this.flushing ??= this.writeChanges().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      // A failed flush is retried on the next tick; the figures are live, not a ledger.
      this.flush().catch(() => undefined);
    }, flushIntervalMs);
    this.timer.unref();
  }

  private slotAt(atMs: number): SlotCounts {
    const key = slotStart(atMs);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = { applied: 0, latency: {}, dirty: false };
      this.slots.set(key, slot);
    }
    return slot;
  }

  private async writeChanges(): Promise<void> {
    const nowMs = this.now().getTime();
    const current = this.slotAt(nowMs);
    // A held call is reported again every flush, so the console's "held right now" stays fresh.
    if (this.held > 0 || this.held !== this.heldFlushed) current.dirty = true;
    const held = this.held;
    for (const [slot, counts] of [...this.slots]) {
      if (counts.dirty) {
        counts.dirty = false;
        try {
          await this.store().writeSlot({
            slot,
            instanceId: this.instanceId,
            applied: counts.applied,
            latency: counts.latency,
            heldCalls: held,
            flushedAt: new Date(nowMs).toISOString(),
          });
        } catch (error) {
          counts.dirty = true;
          throw error;
        }
      }
      if (slot !== slotStart(nowMs)) this.slots.delete(slot);
    }
    this.heldFlushed = held;
    await this.flushStatusDelta();
  }

  private async flushStatusDelta(): Promise<void> {
    const delta = this.statusDelta;
    if (!orderStatuses.some((status) => (delta[status] ?? 0) !== 0)) return;
    this.statusDelta = {};
    try {
      await this.store().addStatusCounts(delta);
    } catch (error) {
      for (const status of orderStatuses) {
        const pending = delta[status];
        if (pending !== undefined) this.statusDelta[status] = (this.statusDelta[status] ?? 0) + pending;
      }
      throw error;
    }
  }
}
