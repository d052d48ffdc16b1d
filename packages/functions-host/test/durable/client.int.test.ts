import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { forwardToDurable, isDurableWebhookPath } from '../../src/durable/forward';
import { field, startHarness, statusOf, until, type Harness } from './fixtures/harness';

describe('local durable backend: durable client HTTP API', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.backend.close();
  });

  /** Waits for the approval orchestration to reach its await (its 60 s timer keeps the backend busy). */
  const waitingForApproval = (id: string) =>
    until(
      async () => h.api(`instances/${id}?showHistory=true`),
      (r) => JSON.stringify(r.body).includes('TimerCreated'),
    );

  it('starts an orchestration with a chosen instance id and reports its status', async () => {
    assert.equal(
      await h.client({ action: 'start', name: 'sequenceAndFanOut', instanceId: 'order-1', input: { basket: 'b1' } }),
      'order-1',
    );
    const early = await statusOf(h, 'order-1');
    assert.ok(['Pending', 'Running', 'Completed'].includes(String(early.runtimeStatus)));
    assert.deepEqual(early.input, { basket: 'b1' });
    await h.backend.whenIdle();
    const done = await statusOf(h, 'order-1');
    assert.equal(done.runtimeStatus, 'Completed');
    assert.deepEqual(field(done.output, 'doubled'), [2, 4, 6, 8]);
    assert.equal(h.backend.stats().orchestrations.Completed, 1);
  });

  it('rejects starting an instance id that is still running (409) and restarts one that has finished', async () => {
    await h.client({ action: 'start', name: 'approval', instanceId: 'dup' });
    await waitingForApproval('dup');
    await assert.rejects(
      h.client({ action: 'start', name: 'approval', instanceId: 'dup' }),
      /unexpected status code: 409/,
    );
    const raw = await h.api('orchestrators/approval/dup', { method: 'POST', body: '{}' });
    assert.equal(raw.status, 409);

    await h.client({ action: 'raise', instanceId: 'dup', event: 'approve', input: 'first' });
    await h.backend.whenIdle();
    assert.deepEqual((await statusOf(h, 'dup')).output, { approvedBy: 'first' });

    // Finished instances may be replaced: a new execution with a fresh history.
    assert.equal(await h.client({ action: 'start', name: 'approval', instanceId: 'dup' }), 'dup');
    await waitingForApproval('dup');
    assert.equal((await statusOf(h, 'dup')).runtimeStatus, 'Running');
    await h.client({ action: 'raise', instanceId: 'dup', event: 'approve', input: 'second' });
    await h.backend.whenIdle();
    assert.deepEqual((await statusOf(h, 'dup')).output, { approvedBy: 'second' });
  });

  it('terminates, purges and reports unknown instances as the extension does', async () => {
    await h.client({ action: 'start', name: 'approval', instanceId: 'doomed' });
    await waitingForApproval('doomed');
    assert.equal(
      await h.client({ action: 'terminate', instanceId: 'doomed', reason: 'customer cancelled' }),
      'terminated',
    );
    await h.backend.whenIdle();
    assert.deepEqual(await statusOf(h, 'doomed'), {
      runtimeStatus: 'Terminated',
      output: 'customer cancelled',
      customStatus: null,
      input: '',
    });
    // 410 Gone for finished instances: the library treats it as success.
    assert.equal(await h.client({ action: 'raise', instanceId: 'doomed', event: 'approve', input: 'late' }), 'raised');
    assert.equal((await h.api('instances/doomed/raiseEvent/approve', { method: 'POST', body: '1' })).status, 410);

    await assert.rejects(
      h.client({ action: 'raise', instanceId: 'ghost', event: 'approve' }),
      /No instance with ID 'ghost'/,
    );
    await assert.rejects(h.client({ action: 'status', instanceId: 'ghost' }), /404/);

    assert.deepEqual(await h.client({ action: 'purge', instanceId: 'doomed' }), { deleted: 1 });
    assert.equal((await h.api('instances/doomed')).status, 404);
    assert.equal((await h.api('orchestrators/noSuchOrchestrator', { method: 'POST' })).status, 400);
  });

  it('answers the check-status links it hands out', async () => {
    const started = await h.api('orchestrators/sequenceAndFanOut', { method: 'POST', body: '"x"' });
    assert.equal(started.status, 202);
    const statusUri = String(field(started.body, 'statusQueryGetUri'));
    assert.match(statusUri, /\/runtime\/webhooks\/durabletask\/instances\/[0-9a-f]{32}\?taskHub=TestHub/);
    await h.backend.whenIdle();
    const response = await fetch(statusUri);
    assert.equal(response.status, 200);
    const body: unknown = await response.json();
    assert.equal(field(body, 'runtimeStatus'), 'Completed');
    assert.equal(field(body, 'input'), 'x');

    // Behind a host, the links carry the host's origin; forwardToDurable passes the path through.
    const front = createServer((req, res) => {
      if (isDurableWebhookPath(new URL(req.url ?? '/', 'http://x').pathname))
        forwardToDurable(req, res, h.backend.httpOrigin);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    try {
      const address = front.address();
      assert.ok(address !== null && typeof address === 'object');
      const viaHost = new URL(statusUri);
      viaHost.host = `127.0.0.1:${address.port}`;
      const forwarded = await fetch(viaHost);
      assert.equal(forwarded.status, 200);
      assert.equal(field(await forwarded.json(), 'runtimeStatus'), 'Completed');
      assert.equal((await fetch(new URL('/api/other', viaHost))).status, 404);
    } finally {
      front.closeAllConnections();
      await new Promise((resolve) => front.close(resolve));
    }

    const listed = await h.api('instances/?runtimeStatus=Completed');
    assert.ok(Array.isArray(listed.body));
    assert.ok(listed.body.some((s: unknown) => field(s, 'instanceId') === field(started.body, 'id')));
  });
});
