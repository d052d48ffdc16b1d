import type { BacklogSample, LiveSlot } from '../../adapters/consolePorts';
import { flushIntervalMs, liveSlotMs, slotStart } from '../../adapters/liveMetrics';
import { mergeHistograms, quantileMs } from '../../domain/liveFigures';

/** The overview's live figures from the instances' flushed slots: sums and merged histograms. */

export const latencyWindowSeconds = 300;
const rateWindowMs = 60_000;
/** An instance that has not flushed for this long holds no call any more (it flushes while it holds one). */
const heldFreshMs = 3 * flushIntervalMs;

export function firstSlotOfWindow(nowMs: number): string {
  return slotStart(nowMs - latencyWindowSeconds * 1000);
}

export function liveFigures(slots: readonly LiveSlot[], nowMs: number) {
  // The current slot is partial: the rate counts whole slots plus it, over the time they span.
  const rateFrom = Date.parse(slotStart(nowMs)) - (rateWindowMs - liveSlotMs);
  const recent = slots.filter((slot) => Date.parse(slot.slot) >= rateFrom);
  const applied = recent.reduce((sum, slot) => sum + slot.applied, 0);
  const spanSeconds = Math.max(1, (nowMs - rateFrom) / 1000);
  const inWindow = slots.filter((slot) => Date.parse(slot.slot) >= nowMs - latencyWindowSeconds * 1000 - liveSlotMs);
  const histogram = mergeHistograms(inWindow.map((slot) => slot.latency));
  const p50 = quantileMs(histogram, 0.5);
  const p99 = quantileMs(histogram, 0.99);
  const latest = new Map<string, LiveSlot>();
  for (const slot of slots) {
    const known = latest.get(slot.instanceId);
    if (known === undefined || slot.flushedAt > known.flushedAt) latest.set(slot.instanceId, slot);
  }
  const heldCalls = [...latest.values()]
    .filter((slot) => nowMs - Date.parse(slot.flushedAt) <= heldFreshMs)
    .reduce((sum, slot) => sum + slot.heldCalls, 0);
  return {
    appliedPerSecond: Math.round((applied / spanSeconds) * 10) / 10,
    latencyMs: p50 === undefined || p99 === undefined ? null : { p50, p99, windowSeconds: latencyWindowSeconds },
    heldCalls,
  };
}

/** Backlog samples: one per 10 s in a ring of 60 (ten minutes of trend, 60 rows at most). */
export const backlogSampleMs = 10_000;
export const backlogRingSize = 60;

export function backlogPosition(nowMs: number): number {
  return Math.floor(nowMs / backlogSampleMs) % backlogRingSize;
}

/** The ring's samples of the last ten minutes, oldest first. */
export function backlogHistory(samples: readonly BacklogSample[], nowMs: number): BacklogSample[] {
  const from = nowMs - backlogSampleMs * backlogRingSize;
  return samples.filter((sample) => Date.parse(sample.at) > from).sort((a, b) => a.at.localeCompare(b.at));
}

/** A new sample is due when the ring holds none from the current 10-second period. */
export function backlogSampleDue(history: readonly BacklogSample[], nowMs: number): boolean {
  const periodStart = Math.floor(nowMs / backlogSampleMs) * backlogSampleMs;
  return !history.some((sample) => Date.parse(sample.at) >= periodStart);
}
