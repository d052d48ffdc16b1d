import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLocalHost, type LocalHost } from '../../src';
import { field } from './fixtures/harness';
import { probe } from './fixtures/probe';

/**
 * The same fixture app, run by the real local host (src/host): its app loader, its invocation
 * path, and its durable client injection in front of this backend.
 */
describe('local durable backend behind the local host', () => {
  let host: LocalHost;
  const lines: string[] = [];
  before(async () => {
    host = await startLocalHost({
      appRoot: join(__dirname, 'fixtures', 'hostApp'),
      port: 0,
      log: (line) => lines.push(line),
      settings: {},
    });
  });
  after(async () => {
    await host.stop();
  });

  const client = (command: Record<string, unknown>): Promise<unknown> =>
    host.invoke('clientCommand', { json: JSON.stringify(command) });

  it('runs orchestrations, activities and entities started through the durable client', async () => {
    const fanOut = await client({ action: 'start', name: 'sequenceAndFanOut', instanceId: 'via-host' });
    assert.equal(fanOut, 'via-host');
    const counters = await Promise.all(
      Array.from({ length: 10 }, () => client({ action: 'start', name: 'countTo', input: { key: 'host', times: 3 } })),
    );
    await host.whenDurableIdle();

    const status = await client({ action: 'status', instanceId: 'via-host' });
    assert.equal(field(status, 'runtimeStatus'), 'Completed');
    assert.deepEqual(field(field(status, 'output'), 'doubled'), [2, 4, 6, 8]);
    for (const id of counters)
      assert.equal(field(await client({ action: 'status', instanceId: String(id) }), 'runtimeStatus'), 'Completed');
    assert.deepEqual(await client({ action: 'read', key: 'host' }), { exists: true, state: 10 * 3 + 10 * 1000 });
    assert.equal(probe.counterMaxInFlight, 1);

    const durable = host.stats().durable;
    assert.ok(durable !== undefined);
    assert.equal(durable.orchestrations.Completed, 11);
    assert.equal(durable.pendingWork, 0);
  });

  it('fails the orchestration when its activity throws', async () => {
    const id = String(await client({ action: 'start', name: 'failing', input: 'via host' }));
    await host.whenDurableIdle();
    const status = await client({ action: 'status', instanceId: id });
    assert.equal(field(status, 'runtimeStatus'), 'Failed');
    assert.match(String(field(status, 'output')), /Orchestrator function 'failing' failed: .*boom: via host/);
  });
});
