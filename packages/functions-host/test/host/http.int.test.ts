import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLocalHost, type InvocationEvent, type LocalHost } from '../../src';

describe('HTTP triggers on the local host', () => {
  let host: LocalHost;
  const lines: string[] = [];
  const events: InvocationEvent[] = [];

  before(async () => {
    host = await startLocalHost({
      appRoot: join(__dirname, 'fixtures', 'httpApp'),
      port: 0,
      log: (line) => lines.push(line),
    });
    host.onInvocation((event) => events.push(event));
  });
  after(async () => {
    await host.stop();
  });

  it('routes with parameters, passes query, headers and JSON body, returns status, headers and cookies', async () => {
    const response = await fetch(`${host.url}/api/items/42/widget?a=1&empty=`, {
      method: 'POST',
      headers: { 'x-test': 'hello', 'content-type': 'application/json' },
      body: JSON.stringify({ quantity: 2 }),
    });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('x-echo'), 'yes');
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(response.headers.get('set-cookie'), 'seen=1; Path=/; HttpOnly');
    assert.deepEqual(await response.json(), {
      method: 'POST',
      params: { id: '42', name: 'widget' },
      // The host drops empty query values before they reach the worker.
      query: { a: '1' },
      header: 'hello',
      body: { quantity: 2 },
      url: `${host.url}/api/items/42/widget?a=1&empty=`,
    });
  });

  it('accepts authLevel function without a key, and optional parameters may be absent', async () => {
    const response = await fetch(`${host.url}/api/items/7`);
    assert.equal(response.status, 200);
    const body: unknown = await response.json();
    assert.ok(typeof body === 'object' && body !== null && 'params' in body);
    assert.deepEqual(body.params, { id: '7' });
  });

  it('answers 404 with no body for unknown routes, failed constraints and methods not registered (as the host)', async () => {
    for (const [path, method] of [
      ['/api/nowhere', 'GET'],
      ['/api/items/not-a-number/widget', 'GET'],
      ['/api/broken', 'POST'],
    ] as const) {
      const response = await fetch(`${host.url}${path}`, { method });
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.equal(await response.text(), '');
    }
  });

  it('answers 500 with an empty body when the function throws, and logs the failure', async () => {
    const response = await fetch(`${host.url}/api/broken`);
    assert.equal(response.status, 500);
    assert.equal(await response.text(), '');
    assert.ok(
      lines.some((line) => /broken {2}GET \/api\/broken → 500 {2}.* FAILED: broken on purpose/.test(line)),
      lines.join('\n'),
    );
    assert.ok(
      events.some((e) => e.functionName === 'broken' && e.outcome === 'failed' && e.error === 'broken on purpose'),
    );
  });

  it('shows context.log output and counts invocations', async () => {
    const before = host.stats().invocations.total;
    await (await fetch(`${host.url}/api/items/9`)).arrayBuffer();
    assert.equal(host.stats().invocations.total, before + 1);
    assert.ok(
      // One line per call: what the function logged goes on the host's line for the call.
      lines.some((line) => / echo {2}GET \/api\/items\/9 → 200 {2}[\d.]+ ms {2}ok {2}GET 9$/.test(line)),
      lines.join('\n'),
    );
  });

  it('lets a test replace a handler for one call through registerHook (failure injection)', async () => {
    let injected = 0;
    const dispose = host.registerHook('preInvocation', (context) => {
      if (injected > 0) return;
      injected++;
      context.functionCallback = () => {
        throw new Error('injected');
      };
    });
    try {
      assert.equal((await fetch(`${host.url}/api/items/1`)).status, 500);
      assert.equal((await fetch(`${host.url}/api/items/1`)).status, 200);
    } finally {
      dispose();
    }
    assert.ok(events.some((e) => e.error === 'injected'));
  });
});
