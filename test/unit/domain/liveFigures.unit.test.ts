import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addLatency,
  bucketUpperMs,
  latencyBucket,
  mergeHistograms,
  publishToAppliedMs,
  quantileMs,
  type LatencyHistogram,
} from '../../../src/domain/liveFigures';

/** Latency histograms that merge across instances and slots, with quantiles within 10%. */

describe('live figures', () => {
  it('puts every latency in a bucket whose upper bound is at most 10% above it', () => {
    for (const latency of [2, 7, 50, 333, 1_000, 12_345, 86_400_000]) {
      const upper = bucketUpperMs(latencyBucket(latency));
      assert.ok(upper >= latency - 0.5 && upper <= latency * 1.1 + 1, `${String(latency)} → ${String(upper)}`);
    }
    assert.equal(latencyBucket(0), 0);
    assert.equal(latencyBucket(1), 0);
  });

  it('p50 and p99 of 1..1000 ms, from two instances merged', () => {
    const a: LatencyHistogram = {};
    const b: LatencyHistogram = {};
    for (let ms = 1; ms <= 1000; ms++) addLatency(ms % 2 === 0 ? a : b, ms);
    const merged = mergeHistograms([a, b]);
    const p50 = quantileMs(merged, 0.5) ?? 0;
    const p99 = quantileMs(merged, 0.99) ?? 0;
    assert.ok(p50 >= 500 && p50 <= 550, String(p50));
    assert.ok(p99 >= 990 && p99 <= 1089, String(p99));
    assert.equal(quantileMs({}, 0.5), undefined);
  });

  it('publish → applied from the two timestamps; an unreadable one gives nothing', () => {
    assert.equal(publishToAppliedMs('2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.250Z'), 1250);
    assert.equal(publishToAppliedMs('2026-01-01T00:00:02.000Z', '2026-01-01T00:00:01.000Z'), 0);
    assert.equal(publishToAppliedMs('yesterday', '2026-01-01T00:00:01.000Z'), undefined);
  });
});
