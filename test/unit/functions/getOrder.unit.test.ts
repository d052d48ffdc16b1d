import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import { eventIdFor, eventEnvelopeSchema } from '../../../src/domain/events';
import { receive } from '../../../src/domain/convoy';
import type { OrderRecord } from '../../../src/domain/orderRecord';
import { getOrderName, makeGetOrder } from '../../../src/functions/getOrder';
import { InMemoryDeadLetterQueue, InMemoryOrderStore } from '../../support/fakes';
import { UnreadableRecordError } from '../../../src/adapters/ports';

function event(sequence: number, type: string, data: unknown) {
  return eventEnvelopeSchema.parse({
    basketId: 'b-1',
    sequence,
    eventId: eventIdFor('b-1', sequence),
    type,
    occurredAt: '2026-01-01T10:00:00.000Z',
    data,
  });
}

const delivery = (sequence: number) => ({
  messageId: eventIdFor('b-1', sequence),
  deliveryCount: 1,
  serviceSequenceNumber: String(100 + sequence),
  receivedAt: '2026-01-01T10:00:01.000Z',
});

/** b-1: sequence 1 applied, 3 parked (waiting for 2), then a duplicate of 1. */
function recordWithEveryLog(): OrderRecord {
  const limits = { maxParkedEvents: 10 };
  const at = '2026-01-01T10:00:02.000Z';
  const one = event(1, 'ItemAdded', { sku: 'SKU-1', quantity: 2, unitPrice: 9.5 });
  let record = receive(undefined, one, delivery(1), at, limits).record;
  record = receive(record, event(3, 'BasketCheckedOut', { currency: 'EUR' }), delivery(3), at, limits).record;
  return receive(record, one, delivery(1), at, limits).record;
}

function get(handlerStore: InMemoryOrderStore, basketId: string, deadLetters = new InMemoryDeadLetterQueue()) {
  const request = new HttpRequest({
    method: 'GET',
    url: `http://localhost:7071/api/orders/${encodeURIComponent(basketId)}`,
    params: { basketId },
  });
  const logs: string[] = [];
  const context = new InvocationContext({
    functionName: getOrderName,
    logHandler: (_level, ...args) => logs.push(args.map(String).join(' ')),
  });
  return {
    response: makeGetOrder({ orderStore: () => handlerStore, deadLetters: () => deadLetters })(request, context),
    logs,
  };
}

/** The response as a client receives it: status, content type and the parsed body. */
async function asClient(init: ReturnType<typeof get>['response']) {
  const response = new HttpResponse(await init);
  const body: unknown = await response.json();
  return { status: response.status, contentType: response.headers.get('content-type'), body };
}

/** GET b-1 while the store's read fails with `error`: status, content type, problem detail, log. */
async function getFailingWith(error: Error) {
  const store = new InMemoryOrderStore();
  store.failNext('get', error);
  const { response, logs } = get(store, 'b-1');
  const { status, contentType, body } = await asClient(response);
  assert.ok(typeof body === 'object' && body !== null && 'detail' in body, JSON.stringify(body));
  return { status, contentType, detail: String(body.detail), log: logs.join('\n') };
}

describe('getOrder', () => {
  it('answers 200 with the state, last applied sequence and the applied, parked, rejected and duplicate logs', async () => {
    const store = new InMemoryOrderStore();
    store.put(recordWithEveryLog());
    const { status, contentType, body } = await asClient(get(store, 'b-1').response);
    assert.equal(status, 200);
    assert.equal(contentType, 'application/json');
    assert.deepEqual(body, {
      basketId: 'b-1',
      status: 'Open',
      lastAppliedSequence: 1,
      total: 19,
      lines: [{ sku: 'SKU-1', quantity: 2, unitPrice: 9.5 }],
      applied: [
        {
          sequence: 1,
          type: 'ItemAdded',
          eventId: 'b-1:1',
          occurredAt: '2026-01-01T10:00:00.000Z',
          appliedAt: '2026-01-01T10:00:02.000Z',
          deliveryCount: 1,
          serviceSequenceNumber: '101',
        },
      ],
      parked: [
        {
          sequence: 3,
          type: 'BasketCheckedOut',
          eventId: 'b-1:3',
          occurredAt: '2026-01-01T10:00:00.000Z',
          parkedAt: '2026-01-01T10:00:02.000Z',
          deliveryCount: 1,
          serviceSequenceNumber: '103',
        },
      ],
      rejected: [],
      duplicates: [
        {
          sequence: 1,
          eventId: 'b-1:1',
          seenAt: '2026-01-01T10:00:02.000Z',
          deliveryCount: 1,
          serviceSequenceNumber: '101',
        },
      ],
      deadLettered: [],
      deadLetterCheck: { scanned: 0, complete: true },
      createdAt: '2026-01-01T10:00:02.000Z',
      updatedAt: '2026-01-01T10:00:02.000Z',
    });
  });

  it("names every sequence of the basket that sits in the dead-letter queue, and only this basket's", async () => {
    const store = new InMemoryOrderStore();
    store.put(recordWithEveryLog());
    const deadLetters = new InMemoryDeadLetterQueue();
    const letter = (basketId: string, sequence: number, serviceSequenceNumber: string) => ({
      serviceSequenceNumber,
      messageId: eventIdFor(basketId, sequence),
      sessionId: basketId,
      sequence,
      type: 'ItemAdded',
      reason: 'MaxDeliveryCountExceeded',
      description: 'Message could not be consumed after 10 delivery attempts.',
      deliveryCount: 10,
      enqueuedAt: '2026-01-01T10:00:00.000Z',
    });
    deadLetters.add(letter('b-1', 2, '7'), {});
    deadLetters.add(letter('b-2', 2, '8'), {});
    deadLetters.add(letter('b-1', 4, '9'), {});
    const { status, body } = await asClient(get(store, 'b-1', deadLetters).response);
    assert.equal(status, 200);
    assert.ok(typeof body === 'object' && body !== null && 'deadLettered' in body && 'deadLetterCheck' in body);
    assert.deepEqual(body.deadLettered, [letter('b-1', 2, '7'), letter('b-1', 4, '9')]);
    assert.deepEqual(body.deadLetterCheck, { scanned: 3, complete: true });
  });

  it('still shows the record when the dead-letter queue cannot be read, and says so', async () => {
    const store = new InMemoryOrderStore();
    store.put(recordWithEveryLog());
    const deadLetters = new InMemoryDeadLetterQueue();
    deadLetters.failNext('peek', new Error('connect ECONNREFUSED 127.0.0.1:5672'));
    const { status, body } = await asClient(get(store, 'b-1', deadLetters).response);
    assert.equal(status, 200);
    assert.ok(typeof body === 'object' && body !== null && 'deadLettered' in body && 'deadLetterCheck' in body);
    assert.deepEqual(body.deadLettered, []);
    assert.deepEqual(body.deadLetterCheck, {
      error: 'The dead-letter queue could not be read: connect ECONNREFUSED 127.0.0.1:5672',
    });
  });

  it('answers 404 naming the dead-lettered sequences when the basket has no order because its events are there', async () => {
    const deadLetters = new InMemoryDeadLetterQueue();
    deadLetters.add(
      { serviceSequenceNumber: '5', messageId: 'b-9:1', sessionId: 'b-9', sequence: 1, deliveryCount: 10 },
      {},
    );
    const { status, body } = await asClient(get(new InMemoryOrderStore(), 'b-9', deadLetters).response);
    assert.equal(status, 404);
    assert.ok(typeof body === 'object' && body !== null && 'detail' in body);
    assert.match(String(body.detail), /1 of its messages sit in the dead-letter queue \(sequences 1\)/);
    assert.match(String(body.detail), /POST \/api\/dead-letters\/b-9\/replay/);
  });

  it('shows why a blocked order is blocked', async () => {
    const store = new InMemoryOrderStore();
    const blocked = receive(
      undefined,
      event(1, 'BasketCheckedOut', { currency: 'EUR' }),
      delivery(1),
      '2026-01-01T10:00:02.000Z',
      {
        maxParkedEvents: 10,
      },
    ).record;
    store.put(blocked);
    const { body } = await asClient(get(store, 'b-1').response);
    assert.ok(
      typeof body === 'object' && body !== null && 'status' in body && 'blockedReason' in body && 'rejected' in body,
    );
    assert.equal(body.status, 'Blocked');
    assert.match(String(body.blockedReason), /needs at least one item/);
    assert.ok(Array.isArray(body.rejected) && body.rejected.length === 1);
  });

  it('answers 404 problem+json for an unknown basket', async () => {
    const { status, contentType, body } = await asClient(get(new InMemoryOrderStore(), 'b-404').response);
    assert.equal(status, 404);
    assert.equal(contentType, 'application/problem+json');
    assert.ok(typeof body === 'object' && body !== null && 'detail' in body);
    assert.match(String(body.detail), /No order b-404 yet/);
  });

  it('answers 400 problem+json naming the field for a basket id that cannot exist', async () => {
    const { status, contentType, body } = await asClient(get(new InMemoryOrderStore(), 'bad id!').response);
    assert.equal(status, 400);
    assert.equal(contentType, 'application/problem+json');
    assert.ok(typeof body === 'object' && body !== null && 'errors' in body);
    assert.deepEqual(body.errors, [
      { path: 'basketId', message: 'basketId must be 1-100 characters: letters, digits, ".", "_" or "-"' },
    ]);
  });

  it('answers 503 problem+json naming the operator, not a retry, when the stored row cannot be read', async () => {
    const { status, contentType, detail, log } = await getFailingWith(
      new UnreadableRecordError('Stored order b-1 cannot be read: status: Invalid option'),
    );
    assert.equal(status, 503);
    assert.equal(contentType, 'application/problem+json');
    assert.equal(
      detail,
      'Stored order b-1 cannot be read: status: Invalid option. An operator must repair or remove the row; retrying will not help.',
    );
    assert.match(log, /getOrder: Stored order b-1 cannot be read/);
  });

  it('answers 503 problem+json when the store is down, and logs it', async () => {
    const { status, detail, log } = await getFailingWith(new Error('ECONNREFUSED 127.0.0.1:10002'));
    assert.equal(status, 503);
    assert.match(detail, /ECONNREFUSED.*retry/);
    assert.match(log, /getOrder: Reading order b-1 failed: ECONNREFUSED/);
  });

  it('answers 500, not 503 "retry", for a bug in the app, and logs its stack', async () => {
    const { status, detail, log } = await getFailingWith(
      new TypeError("Cannot read properties of undefined (reading 'record')"),
    );
    assert.equal(status, 500);
    assert.match(detail, /a bug in the app \(TypeError: Cannot read properties/);
    assert.doesNotMatch(detail, /retry the request/);
    assert.match(log, /getOrder: Reading order b-1 failed, a bug: TypeError: .+\n\s+at /);
  });
});
