import { isoToMs } from './time';

/**
 * The console's live figures as mergeable counts: each instance counts what it applied and how long
 * each event took from publish to applied in a log-scale histogram (10% wide buckets), so the
 * figures of many instances and many time slots add up without keeping samples. Pure.
 */

/** Bucket i holds latencies in (growth^(i-1), growth^i] ms; bucket 0 holds ≤ 1 ms. */
const growth = 1.1;

/** Sparse histogram: bucket index → count. */
export type LatencyHistogram = Record<string, number>;

export function latencyBucket(latencyMs: number): number {
  if (!(latencyMs > 1)) return 0;
  return Math.ceil(Math.log(latencyMs) / Math.log(growth));
}

/** The upper bound of a bucket, in whole milliseconds. */
export function bucketUpperMs(bucket: number): number {
  return Math.round(growth ** bucket);
}

export function addLatency(histogram: LatencyHistogram, latencyMs: number): void {
  const key = String(latencyBucket(latencyMs));
  histogram[key] = (histogram[key] ?? 0) + 1;
}

export function mergeHistograms(histograms: readonly LatencyHistogram[]): LatencyHistogram {
  const merged: LatencyHistogram = {};
  for (const histogram of histograms) {
    for (const [key, count] of Object.entries(histogram)) merged[key] = (merged[key] ?? 0) + count;
  }
  return merged;
}

/** The q-quantile (0 < q ≤ 1) as its bucket's upper bound, or undefined for an empty histogram. */
export function quantileMs(histogram: LatencyHistogram, q: number): number | undefined {
  const buckets = Object.entries(histogram)
    .map(([key, count]) => ({ bucket: Number(key), count }))
    .filter((entry) => entry.count > 0)
    .sort((a, b) => a.bucket - b.bucket);
  const total = buckets.reduce((sum, entry) => sum + entry.count, 0);
  if (total === 0) return undefined;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (const entry of buckets) {
    seen += entry.count;
    if (seen >= rank) return bucketUpperMs(entry.bucket);
  }
  return undefined;
}

/** Publish → applied for one applied event: from the producer's occurredAt to the apply. */
export function publishToAppliedMs(occurredAt: string, appliedAt: string): number | undefined {
  const from = isoToMs(occurredAt);
  const to = isoToMs(appliedAt);
  if (Number.isNaN(from) || Number.isNaN(to)) return undefined;
  return Math.max(0, to - from);
}
