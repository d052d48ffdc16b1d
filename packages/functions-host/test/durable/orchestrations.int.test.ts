import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from './fixtures/manualClock';
import { probe } from './fixtures/probe';
import { field, runToIdle, startHarness, statusOf, until, type Harness } from './fixtures/harness';

describe('local durable backend: orchestrations', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.backend.close();
  });

  it('runs activities in sequence and fanned out, and completes with their results', async () => {
    const id = await runToIdle(h, 'sequenceAndFanOut');
    const status = await statusOf(h, id);
    assert.equal(status.runtimeStatus, 'Completed');
    assert.deepEqual(status.output, { sequence: ['Hello Tokyo', 'Hello London'], doubled: [2, 4, 6, 8] });
    assert.deepEqual(status.customStatus, { stage: 'done' });

    const history = await h.api(`instances/${id}?showHistory=true&showHistoryOutput=true`);
    assert.equal(history.status, 200);
    const events = field(history.body, 'historyEvents');
    assert.ok(Array.isArray(events));
    const types = events.map((e: unknown) => field(e, 'EventType'));
    assert.equal(types.filter((t) => t === 'TaskScheduled').length, 6);
    assert.equal(types.filter((t) => t === 'TaskCompleted').length, 6);
    assert.equal(types[0], 'ExecutionStarted');
    assert.equal(types.at(-1), 'ExecutionCompleted');
  });

  it('fails the orchestration when an activity throws, and lets the orchestrator catch it', async () => {
    const failed = await runToIdle(h, 'failing', 'on purpose');
    const status = await statusOf(h, failed);
    assert.equal(status.runtimeStatus, 'Failed');
    assert.match(String(status.output), /failed: .*boom: on purpose/);

    const caught = await runToIdle(h, 'catching');
    assert.deepEqual(await statusOf(h, caught), {
      runtimeStatus: 'Completed',
      output: 'caught: Error: boom: caught',
      customStatus: null,
      // The library's startNew posts "" when there is no input, and the extension stores it as is.
      input: '',
    });
  });

  it('retries an activity with the retry options, then gives up after the last attempt', async () => {
    const id = await runToIdle(h, 'retrying', 'retry-key');
    assert.deepEqual(await statusOf(h, id), {
      runtimeStatus: 'Completed',
      output: 3,
      customStatus: null,
      input: 'retry-key',
    });
    assert.equal(probe.flakyAttempts.get('retry-key'), 3);

    // Retries inside a fan-out: each retry timer and rescheduled attempt gets the id the library expects.
    const fanOut = await runToIdle(h, 'retryFanOut', 'fan');
    assert.deepEqual((await statusOf(h, fanOut)).output, { results: [3, 10, 3], after: 42 });

    const race = await runToIdle(h, 'retryRace', 'race');
    assert.deepEqual((await statusOf(h, race)).output, { y: 4, attempts: 3 });

    const exhausted = await runToIdle(h, 'retryExhausted');
    const status = await statusOf(h, exhausted);
    assert.equal(status.runtimeStatus, 'Completed');
    assert.match(String(status.output), /^gave up: Error: boom: always/);
  });

  it('delivers external events and cancels the losing timer', async () => {
    const id = String(await h.client({ action: 'start', name: 'approval' }));
    // The 60 s timer keeps the backend busy, so wait for the first episode rather than for idle.
    await until(
      async () => (await h.api(`instances/${id}?showHistory=true`)).body,
      (body) => JSON.stringify(body).includes('TimerCreated'),
    );
    assert.equal(h.backend.stats().pendingWork, 1, 'only the armed timer is pending');
    assert.equal(await h.client({ action: 'raise', instanceId: id, event: 'approve', input: 'ops-lead' }), 'raised');
    await h.backend.whenIdle();
    assert.deepEqual((await statusOf(h, id)).output, { approvedBy: 'ops-lead' });
    assert.equal(h.backend.stats().pendingWork, 0);
  });

  it('continues as new with a fresh history until the orchestrator returns', async () => {
    const id = await runToIdle(h, 'loop', 0);
    const status = await h.api(`instances/${id}?showHistory=true`);
    assert.equal(field(status.body, 'runtimeStatus'), 'Completed');
    assert.deepEqual(field(status.body, 'output'), { round: 3, echoed: 6 });
    assert.equal(field(status.body, 'input'), 3);
    const events = field(status.body, 'historyEvents');
    assert.ok(Array.isArray(events));
    // Only the last execution's history remains: one activity, not four.
    assert.equal(events.filter((e: unknown) => field(e, 'EventType') === 'TaskScheduled').length, 1);
  });

  it('fires durable timers from the injected clock, not from wall time', async () => {
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const timed = await startHarness({ clock });
    try {
      const id = String(await timed.client({ action: 'start', name: 'nap' }));
      await until(
        async () => (await timed.api(`instances/${id}?showHistory=true`)).body,
        (body) => JSON.stringify(body).includes('TimerCreated'),
      );
      clock.advance(29_999);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal((await statusOf(timed, id)).runtimeStatus, 'Running');
      clock.advance(1);
      await timed.backend.whenIdle();
      const status = await statusOf(timed, id);
      assert.equal(status.runtimeStatus, 'Completed');
      assert.equal(status.output, 'rested');
    } finally {
      await timed.backend.close();
    }
  });

  it('runs a sub-orchestration and hands its output to the parent', async () => {
    const id = await runToIdle(h, 'parent');
    const status = await statusOf(h, id);
    assert.equal(status.runtimeStatus, 'Completed');
    assert.deepEqual(status.output, { child: { sequence: ['Hello Tokyo', 'Hello London'], doubled: [2, 4, 6, 8] } });
  });
});
