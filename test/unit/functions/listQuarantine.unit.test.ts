import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import type { QuarantinedMessage } from '../../../src/domain/orderRecord';
import { defaultQuarantineLimit, listQuarantineName, makeListQuarantine } from '../../../src/functions/listQuarantine';
import { InMemoryQuarantineStore } from '../../support/fakes';

function quarantined(index: number): QuarantinedMessage {
  return {
    messageId: `m-${String(index)}`,
    sessionId: 'b-1',
    reason: 'The body basketId "b-2" differs from the session id "b-1".',
    body: '{}',
    deliveryCount: 1,
    serviceSequenceNumber: String(index),
    quarantinedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, index)).toISOString(),
  };
}

async function list(store: InMemoryQuarantineStore, query: Record<string, string> = {}) {
  const request = new HttpRequest({ method: 'GET', url: 'http://localhost:7071/api/quarantine', query });
  const context = new InvocationContext({ functionName: listQuarantineName, logHandler: () => undefined });
  const response = new HttpResponse(await makeListQuarantine({ quarantineStore: () => store })(request, context));
  const body: unknown = await response.json();
  return { status: response.status, contentType: response.headers.get('content-type'), body };
}

async function storeWith(count: number): Promise<InMemoryQuarantineStore> {
  const store = new InMemoryQuarantineStore();
  for (let index = 1; index <= count; index += 1) await store.add(quarantined(index));
  return store;
}

describe('listQuarantine', () => {
  it('answers 200 with the newest quarantined messages first, up to the limit', async () => {
    const { status, body } = await list(await storeWith(5), { limit: '2' });
    assert.equal(status, 200);
    assert.deepEqual(body, { count: 2, limit: 2, messages: [quarantined(5), quarantined(4)] });
  });

  it(`defaults the limit to ${String(defaultQuarantineLimit)}`, async () => {
    const { body } = await list(await storeWith(defaultQuarantineLimit + 1));
    assert.ok(typeof body === 'object' && body !== null && 'count' in body && 'limit' in body);
    assert.equal(body.count, defaultQuarantineLimit);
    assert.equal(body.limit, defaultQuarantineLimit);
  });

  it('answers 200 with an empty list when nothing is quarantined', async () => {
    const { status, body } = await list(new InMemoryQuarantineStore());
    assert.equal(status, 200);
    assert.deepEqual(body, { count: 0, limit: defaultQuarantineLimit, messages: [] });
  });

  for (const limit of ['0', '1001', 'ten', '-1', '2.5']) {
    it(`answers 400 problem+json for limit=${limit}`, async () => {
      const { status, contentType, body } = await list(new InMemoryQuarantineStore(), { limit });
      assert.equal(status, 400);
      assert.equal(contentType, 'application/problem+json');
      assert.ok(typeof body === 'object' && body !== null && 'errors' in body && Array.isArray(body.errors));
      assert.deepEqual(
        body.errors.map((error: unknown) =>
          typeof error === 'object' && error !== null && 'path' in error ? error.path : undefined,
        ),
        ['limit'],
      );
    });
  }

  it('answers 503 problem+json when the store is down', async () => {
    const store = new InMemoryQuarantineStore();
    store.failNext('list', new Error('table unavailable'));
    const { status, contentType } = await list(store);
    assert.equal(status, 503);
    assert.equal(contentType, 'application/problem+json');
  });
});
