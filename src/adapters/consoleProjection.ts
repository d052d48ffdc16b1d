import type { Delivery, OrderRecord } from '../domain/orderRecord';
import { indexWrites } from '../domain/stuck';
import type { InFlightIndex } from './consolePorts';
import type { LiveMetrics } from './liveMetrics';

/**
 * What the convoy tells the console after it saved a step: the in-flight index writes the step needs
 * (usually none) and the live counts (memory only). Called after the order's save, never before, so
 * the index is never ahead of the order (docs/console.md: why that keeps the watchdog correct).
 */
export interface OrderProgressSink {
  saved(before: OrderRecord | undefined, after: OrderRecord, delivery: Delivery): Promise<void>;
}

/** Baskets whose index write failed in this process: their next step re-puts the row. */
const maxPendingRepairs = 10_000;

export class ConsoleProjection implements OrderProgressSink {
  private readonly needsRepair = new Set<string>();

  constructor(
    private readonly index: () => InFlightIndex,
    private readonly metrics: LiveMetrics,
    private readonly bucketMs: () => number,
  ) {}

  async saved(before: OrderRecord | undefined, after: OrderRecord, delivery: Delivery): Promise<void> {
    this.metrics.recordSaved(before, after);
    // A redelivery, or a retry after this process failed the index write: the step before may have
    // saved the order and not the index, so the row is put again (an idempotent upsert).
    const repair = delivery.deliveryCount > 1 || this.needsRepair.has(after.basketId);
    const writes = indexWrites(before, after, this.bucketMs(), repair);
    if (writes.put === undefined && writes.drop === undefined) return;
    try {
      if (writes.put !== undefined) await this.index().put(writes.put);
      if (writes.drop !== undefined) await this.index().drop(writes.drop.bucket, writes.drop.basketId);
      this.needsRepair.delete(after.basketId);
    } catch (error) {
      if (this.needsRepair.size < maxPendingRepairs) this.needsRepair.add(after.basketId);
      throw error;
    }
  }
}
