import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { probe } from './fixtures/probe';
import { runToIdle, startHarness, statusOf, type Harness } from './fixtures/harness';

describe('local durable backend: entities', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.backend.close();
  });

  it('never loses an update when many orchestrations use one counter at once', async () => {
    const orchestrations = 25;
    const callsEach = 4;
    const before = h.host.invocations.get('counter') ?? 0;
    const ids = await Promise.all(
      Array.from({ length: orchestrations }, () =>
        h.client({ action: 'start', name: 'countTo', input: { key: 'shared', times: callsEach } }),
      ),
    );
    // A second counter in parallel: entities are independent of each other.
    await h.client({ action: 'start', name: 'countTo', input: { key: 'other', times: 2 } });
    await h.backend.whenIdle();

    for (const id of ids) assert.equal((await statusOf(h, String(id))).runtimeStatus, 'Completed');
    const expected = orchestrations * callsEach + orchestrations * 1000;
    assert.deepEqual(await h.client({ action: 'read', key: 'shared' }), { exists: true, state: expected });
    assert.deepEqual(await h.client({ action: 'read', key: 'other' }), { exists: true, state: 1002 });
    assert.equal(probe.counterMaxInFlight, 1, 'operations on one entity never overlap');

    const operations = orchestrations * (callsEach + 2) + 4;
    const invocations = (h.host.invocations.get('counter') ?? 0) - before;
    assert.ok(
      invocations < operations,
      `queued operations run in batches (${invocations} invocations for ${operations} operations)`,
    );
    assert.equal(h.backend.stats().entities, 2);
  });

  it('takes signals and state reads from the durable client', async () => {
    assert.deepEqual(await h.client({ action: 'read', key: 'fresh' }), { exists: false, state: null });
    assert.equal(await h.client({ action: 'signal', key: 'fresh', input: 5 }), 'signalled');
    assert.equal(await h.client({ action: 'signal', key: 'fresh', input: 7 }), 'signalled');
    await h.backend.whenIdle();
    assert.deepEqual(await h.client({ action: 'read', key: 'fresh' }), { exists: true, state: 12 });

    const raw = await h.api('entities/counter/fresh');
    assert.deepEqual(raw, { status: 200, body: 12 });
    assert.equal((await h.api('entities/nosuchentity/x', { method: 'POST', body: '1' })).status, 400);
  });

  it('returns an operation error to the calling orchestration without touching the state', async () => {
    const id = await runToIdle(h, 'entityError');
    assert.deepEqual(await statusOf(h, id), {
      runtimeStatus: 'Completed',
      output: 'caught',
      customStatus: null,
      input: '',
    });
    assert.deepEqual(await h.client({ action: 'read', key: 'errors' }), { exists: false, state: null });
  });
});
