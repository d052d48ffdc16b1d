import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTimeSpan, parseTimeSpan } from '../../src';

describe('TimeSpan text (host.json durations)', () => {
  it('reads the forms TimeSpan.Parse reads', () => {
    assert.equal(parseTimeSpan('00:00:02'), 2_000);
    assert.equal(parseTimeSpan('00:05:00'), 300_000);
    assert.equal(parseTimeSpan('0:5:0'), 300_000);
    assert.equal(parseTimeSpan('01:30'), 5_400_000); // seconds are optional
    assert.equal(parseTimeSpan('3'), 3 * 86_400_000); // a bare number is days
    assert.equal(parseTimeSpan('1.02:00:00'), 26 * 3_600_000);
    assert.equal(parseTimeSpan(' 00:00:01 '), 1_000);
  });

  it('reads one to seven fraction digits as fractions of a second', () => {
    assert.equal(parseTimeSpan('00:00:00.8'), 800);
    assert.equal(parseTimeSpan('00:00:00.80'), 800);
    assert.equal(parseTimeSpan('00:00:00.500'), 500);
    assert.equal(parseTimeSpan('00:00:01.0000001'), 1_000.0001);
    assert.throws(() => parseTimeSpan('00:00:01.00000001'), /not a TimeSpan/);
  });

  it('refuses what is not a duration, naming the text', () => {
    assert.throws(() => parseTimeSpan('2s'), /"2s" is not a TimeSpan \(expected/);
    assert.throws(() => parseTimeSpan(''), /"" is not a TimeSpan/);
    assert.throws(() => parseTimeSpan('-00:00:05'), /negative/);
    assert.throws(() => parseTimeSpan('00:00:60'), /seconds run 0–59/);
    assert.throws(() => parseTimeSpan('00:60:00'), /minutes run 0–59/);
    // .NET would read this as 24 days; refused, with the form to write instead.
    assert.throws(() => parseTimeSpan('24:00:00'), /hours run 0–23 \(write days as d\.hh:mm:ss\)/);
  });

  it('writes milliseconds as text it reads back, days included', () => {
    assert.equal(formatTimeSpan(2_000), '00:00:02');
    assert.equal(formatTimeSpan(800), '00:00:00.800');
    assert.equal(formatTimeSpan(25 * 3_600_000), '1.01:00:00');
    for (const ms of [0, 1, 999, 59_999, 3_600_000, 86_399_999, 90_061_001, 10 * 86_400_000])
      assert.equal(parseTimeSpan(formatTimeSpan(ms)), ms, `${ms} ms`);
    assert.throws(() => formatTimeSpan(-1), /non-negative/);
  });
});
