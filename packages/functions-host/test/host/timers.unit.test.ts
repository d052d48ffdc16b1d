import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextOccurrence, parseNcrontab, TimerPump } from '../../src/host/timers';

/** The local host's timer triggers: six-field NCRONTAB in UTC, one call at a time. */

const at = (iso: string) => Date.parse(iso);
const next = (expression: string, after: string) =>
  new Date(nextOccurrence(parseNcrontab(expression), at(after))).toISOString();

describe('NCRONTAB schedules', () => {
  it('every minute at second 0, every 5 seconds, weekdays at 09:30', () => {
    assert.equal(next('0 */1 * * * *', '2026-12-07T20:15:29.516Z'), '2026-12-07T20:16:00.000Z');
    assert.equal(next('0 */1 * * * *', '2026-12-07T20:16:00.000Z'), '2026-12-07T20:17:00.000Z');
    assert.equal(next('*/5 * * * * *', '2026-12-07T20:15:29.516Z'), '2026-12-07T20:15:30.000Z');
    // 2026-12-05 is a Saturday: the next weekday 09:30 is Monday the 7th.
    assert.equal(next('0 30 9 * * MON-FRI', '2026-12-05T10:00:00.000Z'), '2026-12-07T09:30:00.000Z');
    assert.equal(next('0 0 0 1 JAN *', '2026-12-07T00:00:00.000Z'), '2027-01-01T00:00:00.000Z');
    assert.equal(next('0 0 12 * * 7', '2026-12-07T00:00:00.000Z'), '2026-12-13T12:00:00.000Z');
  });

  it('refuses what is not six NCRONTAB fields, naming the expression', () => {
    assert.throws(() => parseNcrontab('*/5 * * * *'), /six fields/);
    assert.throws(() => parseNcrontab('0 61 * * * *'), /"61" is out of range 0-59/);
    assert.throws(() => parseNcrontab('*/0 * * * * *'), /bad step/);
    assert.throws(() => parseNcrontab('00:01:00'), /six fields/);
  });
});

describe('TimerPump', () => {
  it('calls on schedule with the TimerInfo shape, skips an occurrence while a call runs, and stops', async () => {
    const inputs: unknown[] = [];
    const calls = (): number => inputs.length;
    let release: () => void = () => undefined;
    const pump = new TimerPump(parseNcrontab('* * * * * *'), (input) => {
      inputs.push(JSON.parse(input));
      // The first call outlasts the next occurrences; they are skipped, not queued.
      return inputs.length === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
    });
    pump.start();
    await new Promise((resolve) => setTimeout(resolve, 2_600));
    assert.equal(calls(), 1, 'no second call while the first runs');
    release();
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await pump.stop();
    const count = calls();
    assert.ok(count >= 2, String(count));
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    assert.equal(calls(), count, 'nothing after stop');
    assert.deepEqual(Object.keys(inputs[0] as object), ['Schedule', 'ScheduleStatus', 'IsPastDue']);
  });
});
