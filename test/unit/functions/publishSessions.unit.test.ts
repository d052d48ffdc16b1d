import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { eventEnvelopeSchema } from '../../../src/domain/events';
import { makePublishSessions } from '../../../src/functions/publishSessions';
import { RecordingEventPublisher } from '../../support/fakes';

const start = new Date('2026-03-01T10:00:00.000Z');

function setup() {
  const publisher = new RecordingEventPublisher();
  const handler = makePublishSessions({ publisher: () => publisher, now: () => start, runId: () => 'r1' });
  const call = async (body: string, headers: Record<string, string> = {}): Promise<HttpResponseInit> =>
    handler(
      new HttpRequest({ method: 'POST', url: 'http://localhost/api/sessions', body: { string: body }, headers }),
      new InvocationContext({ functionName: 'publishSessions', logHandler: () => undefined }),
    );
  return { publisher, call };
}

const acceptedSchema = z.strictObject({
  baskets: z.array(z.strictObject({ basketId: z.string(), events: z.number(), statusUrl: z.string() })),
});
const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

function problemOf(response: HttpResponseInit) {
  assert.equal(new Headers(response.headers).get('content-type'), 'application/problem+json');
  return problemSchema.parse(response.jsonBody);
}

describe('publishSessions', () => {
  it('turns the documented explicit basket into ItemAdded, BasketCheckedOut, PaymentMade for the total', async () => {
    const { publisher, call } = setup();
    const response = await call(
      JSON.stringify({
        baskets: [{ basketId: 'b-1', currency: 'EUR', items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 9.5 }] }],
      }),
    );
    assert.equal(response.status, 202);
    assert.deepEqual(acceptedSchema.parse(response.jsonBody), {
      baskets: [{ basketId: 'b-1', events: 3, statusUrl: '/api/orders/b-1' }],
    });
    assert.deepEqual(
      publisher.published.map(({ event }) => [event.eventId, event.type, event.data]),
      [
        ['b-1:1', 'ItemAdded', { sku: 'SKU-1', quantity: 2, unitPrice: 9.5 }],
        ['b-1:2', 'BasketCheckedOut', { currency: 'EUR' }],
        ['b-1:3', 'PaymentMade', { amount: 19, currency: 'EUR' }],
      ],
    );
    for (const { event, options } of publisher.published) {
      assert.deepEqual(eventEnvelopeSchema.parse(event), event);
      assert.equal(event.occurredAt, start.toISOString());
      assert.equal(options?.notBefore, undefined);
    }
  });

  it('generates baskets and interleaves them round-robin, each basket keeping its own order', async () => {
    const { publisher, call } = setup();
    const response = await call(JSON.stringify({ generate: { baskets: 3, itemsPerBasket: 2, interleave: true } }));
    assert.equal(response.status, 202);
    const accepted = acceptedSchema.parse(response.jsonBody);
    assert.deepEqual(
      accepted.baskets.map((b) => [b.basketId, b.events, b.statusUrl]),
      [
        ['b-r1-1', 4, '/api/orders/b-r1-1'],
        ['b-r1-2', 4, '/api/orders/b-r1-2'],
        ['b-r1-3', 4, '/api/orders/b-r1-3'],
      ],
    );
    assert.deepEqual(
      publisher.published.map(({ event }) => event.eventId),
      [
        'b-r1-1:1',
        'b-r1-2:1',
        'b-r1-3:1',
        'b-r1-1:2',
        'b-r1-2:2',
        'b-r1-3:2',
        'b-r1-1:3',
        'b-r1-2:3',
        'b-r1-3:3',
        'b-r1-1:4',
        'b-r1-2:4',
        'b-r1-3:4',
      ],
    );
    for (const { event } of publisher.published) eventEnvelopeSchema.parse(event);
    // The payment of every basket equals its items' total.
    for (const basketId of ['b-r1-1', 'b-r1-2', 'b-r1-3']) {
      const events = publisher.published.map((s) => s.event).filter((e) => e.basketId === basketId);
      const total = events.reduce(
        (sum, e) => (e.type === 'ItemAdded' ? sum + Math.round(e.data.quantity * e.data.unitPrice * 100) : sum),
        0,
      );
      const payment = events.find((e) => e.type === 'PaymentMade');
      assert.ok(payment?.type === 'PaymentMade');
      assert.equal(Math.round(payment.data.amount * 100), total);
    }
  });

  it('publishes basket after basket when interleave is off', async () => {
    const { publisher, call } = setup();
    await call(JSON.stringify({ generate: { baskets: 2, itemsPerBasket: 1, interleave: false } }));
    assert.deepEqual(
      publisher.published.map(({ event }) => event.eventId),
      ['b-r1-1:1', 'b-r1-1:2', 'b-r1-1:3', 'b-r1-2:1', 'b-r1-2:2', 'b-r1-2:3'],
    );
  });

  it('spreads a basket over time with delayMs: the k-th event is scheduled k × delayMs after now', async () => {
    const { publisher, call } = setup();
    await call(
      JSON.stringify({ generate: { baskets: 1, itemsPerBasket: 2, interleave: true, delayMs: 1500, currency: 'USD' } }),
    );
    assert.deepEqual(
      publisher.published.map(({ event, options }) => [
        event.sequence,
        options?.notBefore?.toISOString(),
        event.occurredAt,
      ]),
      [
        [1, undefined, '2026-03-01T10:00:00.000Z'],
        [2, '2026-03-01T10:00:01.500Z', '2026-03-01T10:00:01.500Z'],
        [3, '2026-03-01T10:00:03.000Z', '2026-03-01T10:00:03.000Z'],
        [4, '2026-03-01T10:00:04.500Z', '2026-03-01T10:00:04.500Z'],
      ],
    );
    const checkout = publisher.published[2]?.event;
    assert.ok(checkout?.type === 'BasketCheckedOut');
    assert.equal(checkout.data.currency, 'USD');
  });

  it('answers 400 with each invalid field for counts over the limits, and publishes nothing', async () => {
    const { publisher, call } = setup();
    const tooMany = problemOf(await call(JSON.stringify({ generate: { baskets: 1001, itemsPerBasket: 101 } })));
    assert.equal(tooMany.status, 400);
    const paths = (tooMany.errors ?? []).map((e) => e.path);
    assert.ok(paths.includes('generate.baskets'), paths.join(','));
    assert.ok(paths.includes('generate.itemsPerBasket'), paths.join(','));

    const items = Array.from({ length: 101 }, () => ({ sku: 'SKU-1', quantity: 1, unitPrice: 1 }));
    const explicit = problemOf(await call(JSON.stringify({ baskets: [{ basketId: 'b-x', currency: 'EUR', items }] })));
    assert.equal(explicit.status, 400);
    assert.ok((explicit.errors ?? []).some((e) => e.path === 'baskets.0.items'));
    assert.equal(publisher.published.length, 0);
  });

  it('answers 400 for duplicate basket ids, a bad currency, and a document of neither form', async () => {
    const { call } = setup();
    const item = { sku: 'SKU-1', quantity: 1, unitPrice: 1 };
    const duplicate = problemOf(
      await call(
        JSON.stringify({
          baskets: [
            { basketId: 'b-1', currency: 'EUR', items: [item] },
            { basketId: 'b-1', currency: 'EUR', items: [item] },
          ],
        }),
      ),
    );
    assert.ok((duplicate.errors ?? []).some((e) => e.path === 'baskets.1.basketId'));
    const currency = problemOf(
      await call(JSON.stringify({ baskets: [{ basketId: 'b-1', currency: 'euro', items: [item] }] })),
    );
    assert.ok((currency.errors ?? []).some((e) => e.path === 'baskets.0.currency'));
    assert.equal(problemOf(await call(JSON.stringify({ hello: 1 }))).status, 400);
    assert.equal(problemOf(await call('{not json')).status, 400);
  });

  it('answers 413 for a body over 1 MiB', async () => {
    const { call } = setup();
    const big = JSON.stringify({
      baskets: [{ basketId: 'b-1', currency: 'EUR', items: [], pad: 'x'.repeat(1024 * 1024) }],
    });
    assert.equal(problemOf(await call(big)).status, 413);
  });

  it('answers 503 (not 500) when the broker refuses, so the client knows a retry is safe', async () => {
    const { publisher, call } = setup();
    publisher.failNext('publish', new Error('connection refused'));
    const response = problemOf(await call(JSON.stringify({ generate: { baskets: 1, itemsPerBasket: 1 } })));
    assert.equal(response.status, 503);
    assert.match(response.detail, /connection refused/);
  });
});
