import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLocalHost, type InvocationEvent, type LocalHost } from '../../src';

describe('durable functions through the local host and the in-memory durable backend', () => {
  let host: LocalHost;
  const events: InvocationEvent[] = [];

  before(async () => {
    host = await startLocalHost({ appRoot: join(__dirname, 'fixtures', 'durableApp'), port: 0, log: () => undefined });
    host.onInvocation((event) => events.push(event));
  });
  after(async () => {
    await host.stop();
  });

  it('passes the durable client input, and the backend runs the orchestration through host.invoke', async () => {
    const started = await fetch(`${host.url}/api/greetings`, {
      method: 'POST',
      body: JSON.stringify(['Ada', 'Linus']),
    });
    assert.equal(started.status, 202);
    const body: unknown = await started.json();
    assert.ok(typeof body === 'object' && body !== null && 'instanceId' in body && typeof body.instanceId === 'string');
    await host.whenDurableIdle();
    const status = await fetch(`${host.url}/api/greetings/${body.instanceId}`);
    assert.deepEqual(await status.json(), { runtimeStatus: 'Completed', output: ['Hello Ada', 'Hello Linus'] });
    assert.equal(host.stats().durable?.orchestrations.Completed, 1);
    const triggers = new Set(events.map((e) => `${e.functionName}:${e.triggerType}`));
    assert.ok(triggers.has('greetAll:orchestrationTrigger'));
    assert.ok(triggers.has('sayHello:activityTrigger'));
    assert.equal(events.filter((e) => e.functionName === 'sayHello').length, 2);
  });

  it('serves the durable webhooks (check-status links) on the host port', async () => {
    const started: unknown = await (
      await fetch(`${host.url}/api/greetings`, { method: 'POST', body: '["Grace"]' })
    ).json();
    assert.ok(
      typeof started === 'object' &&
        started !== null &&
        'instanceId' in started &&
        typeof started.instanceId === 'string',
    );
    await host.whenDurableIdle();
    const response = await fetch(
      `${host.url}/runtime/webhooks/durabletask/instances/${started.instanceId}?taskHub=FixtureHub&connection=Storage`,
    );
    assert.equal(response.status, 200);
    const status: unknown = await response.json();
    assert.ok(typeof status === 'object' && status !== null && 'runtimeStatus' in status);
    assert.equal(status.runtimeStatus, 'Completed');
  });
});
