import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConsoleMetricsStore, LiveSlot, StatusCounts } from '../../../src/adapters/consolePorts';
import { LiveMetrics } from '../../../src/adapters/liveMetrics';
import { ManualClock } from '../../support/fakes';
import { checkedOut, given, itemAdded } from '../domain/scenario';

/** The per-instance counts: memory only until a flush, which writes one slot row and the status deltas. */

class RecordingMetricsStore implements Pick<ConsoleMetricsStore, 'writeSlot' | 'addStatusCounts'> {
  readonly slots: LiveSlot[] = [];
  readonly deltas: Partial<StatusCounts>[] = [];
  failCounts = false;
  writeSlot(slot: LiveSlot): Promise<void> {
    this.slots.push(structuredClone(slot));
    return Promise.resolve();
  }
  addStatusCounts(delta: Partial<StatusCounts>): Promise<void> {
    if (this.failCounts) return Promise.reject(new Error('storage down (injected)'));
    this.deltas.push({ ...delta });
    return Promise.resolve();
  }
}

function metricsOver(store: RecordingMetricsStore, clock: ManualClock): LiveMetrics {
  const full: ConsoleMetricsStore = {
    writeSlot: (slot) => store.writeSlot(slot),
    addStatusCounts: (delta) => store.addStatusCounts(delta),
    readSlots: () => Promise.reject(new Error('not used')),
    readStatusCounts: () => Promise.reject(new Error('not used')),
    writeBacklogSample: () => Promise.reject(new Error('not used')),
    readBacklogSamples: () => Promise.reject(new Error('not used')),
    writeWatchdogSummary: () => Promise.reject(new Error('not used')),
    readWatchdogSummary: () => Promise.reject(new Error('not used')),
    deleteSlotsBefore: () => Promise.reject(new Error('not used')),
  };
  return new LiveMetrics(() => full, clock.now, 'instance-a');
}

describe('LiveMetrics', () => {
  it('counts newly applied events and status moves, and writes nothing until it flushes', async () => {
    const store = new RecordingMetricsStore();
    const clock = new ManualClock('2026-01-01T12:00:05.000Z');
    const metrics = metricsOver(store, clock);
    try {
      const open = given([itemAdded(1)]);
      const checked = given([itemAdded(1), checkedOut(2)]);
      assert.ok(open !== undefined && checked !== undefined);
      metrics.recordSaved(undefined, open);
      metrics.recordSaved(open, checked);
      metrics.recordSaved(checked, checked); // a duplicate: nothing new
      assert.equal(store.slots.length + store.deltas.length, 0);
      await metrics.flush();
      const applied = store.slots.reduce((sum, slot) => sum + slot.applied, 0);
      assert.equal(applied, 2);
      assert.deepEqual(store.deltas, [{ Open: 0, CheckedOut: 1 }]);
      await metrics.flush();
      assert.equal(store.deltas.length, 1, 'nothing changed: nothing written');
    } finally {
      metrics.stop();
    }
  });

  it('reports held calls while they are held, and keeps status deltas through a failed flush', async () => {
    const store = new RecordingMetricsStore();
    const clock = new ManualClock('2026-01-01T12:00:05.000Z');
    const metrics = metricsOver(store, clock);
    try {
      const release = metrics.callHeld();
      const open = given([itemAdded(1)]);
      assert.ok(open !== undefined);
      metrics.recordSaved(undefined, open);
      store.failCounts = true;
      await assert.rejects(metrics.flush(), /storage down/);
      assert.equal(store.slots.at(-1)?.heldCalls, 1);
      release();
      release();
      store.failCounts = false;
      clock.advance(1000);
      await metrics.flush();
      assert.equal(store.slots.at(-1)?.heldCalls, 0, 'the end of the hold is flushed once');
      assert.deepEqual(store.deltas, [{ Open: 1 }]);
    } finally {
      metrics.stop();
    }
  });
});
