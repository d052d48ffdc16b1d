import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { ConcurrencyConflictError, type DeadLetter } from '../../../src/adapters/ports';
import { eventIdFor } from '../../../src/domain/events';
import { makeListDeadLetters } from '../../../src/functions/listDeadLetters';
import { makeReplayDeadLetters, replayDeadLettersName } from '../../../src/functions/replayDeadLetters';
import {
  InMemoryDeadLetterQueue,
  InMemoryOrderStore,
  InMemoryQuarantineStore,
  ManualClock,
  RecordingFulfillmentStarter,
} from '../../support/fakes';

/** The replay handler over in-memory ports: order, stopping at a failure, ETag conflicts, bad input. */

function body(basketId: string, sequence: number, type: string, data: unknown) {
  return {
    basketId,
    sequence,
    eventId: eventIdFor(basketId, sequence),
    type,
    occurredAt: '2026-01-01T10:00:00.000Z',
    data,
  };
}

function letter(basketId: string, sequence: number, serviceSequenceNumber: string): DeadLetter {
  return {
    serviceSequenceNumber,
    messageId: eventIdFor(basketId, sequence),
    sessionId: basketId,
    sequence,
    reason: 'MaxDeliveryCountExceeded',
    deliveryCount: 10,
  };
}

const replayContract = z.object({
  found: z.number(),
  remaining: z.number(),
  letters: z.array(
    z.object({ sequence: z.number().optional(), outcome: z.string(), detail: z.string(), removed: z.boolean() }),
  ),
  order: z
    .object({ status: z.string(), lastAppliedSequence: z.number(), parkedSequences: z.array(z.number()) })
    .optional(),
});

function setup() {
  const orders = new InMemoryOrderStore();
  const quarantine = new InMemoryQuarantineStore();
  const deadLetters = new InMemoryDeadLetterQueue();
  const fulfillment = new RecordingFulfillmentStarter();
  const clock = new ManualClock('2026-01-01T11:00:00.000Z');
  const logs: string[] = [];
  const handler = makeReplayDeadLetters({
    orderStore: () => orders,
    quarantineStore: () => quarantine,
    deadLetters: () => deadLetters,
    fulfillmentStarterFor: () => fulfillment,
    now: clock.now,
    maxParkedEvents: () => 10,
  });
  const replay = async (basketId: string) => {
    const response = await handler(
      new HttpRequest({
        method: 'POST',
        url: `http://localhost:7071/api/dead-letters/${encodeURIComponent(basketId)}/replay`,
        params: { basketId },
      }),
      new InvocationContext({
        functionName: replayDeadLettersName,
        logHandler: (level, ...args) => logs.push(`${level}: ${args.map(String).join(' ')}`),
      }),
    );
    const answer: unknown = JSON.parse(JSON.stringify(response.jsonBody ?? null));
    return { status: response.status ?? 200, body: answer };
  };
  return { orders, quarantine, deadLetters, fulfillment, logs, replay };
}

describe('replayDeadLetters', () => {
  it('a valid basket: 1, 2, 3, 4 applied in order even though the queue holds 4 first; other baskets untouched', async () => {
    const t = setup();
    t.deadLetters.add(letter('b-1', 4, '30'), body('b-1', 4, 'PaymentMade', { amount: 19.5, currency: 'EUR' }));
    t.deadLetters.add(letter('b-1', 1, '10'), body('b-1', 1, 'ItemAdded', { sku: 'S', quantity: 2, unitPrice: 9.5 }));
    t.deadLetters.add(
      letter('b-other', 1, '15'),
      body('b-other', 1, 'ItemAdded', { sku: 'S', quantity: 1, unitPrice: 1 }),
    );
    t.deadLetters.add(letter('b-1', 3, '20'), body('b-1', 3, 'BasketCheckedOut', { currency: 'EUR' }));
    t.deadLetters.add(letter('b-1', 2, '25'), body('b-1', 2, 'ItemAdded', { sku: 'T', quantity: 1, unitPrice: 0.5 }));
    const replay = replayContract.parse((await t.replay('b-1')).body);
    assert.deepEqual(
      replay.letters.map((l) => [l.sequence, l.outcome]),
      [
        [1, 'applied'],
        [2, 'applied'],
        [3, 'applied'],
        [4, 'applied'],
      ],
    );
    assert.equal(replay.remaining, 0);
    assert.deepEqual(replay.order, { status: 'Paid', lastAppliedSequence: 4, parkedSequences: [] });
    assert.equal(t.fulfillment.started.get('b-1')?.nextSequence, 5);
    assert.deepEqual(
      t.deadLetters.letters.map(({ letter: l }) => l.messageId),
      ['b-other:1'],
    );
  });

  it('stops at the first failure: that message and the later ones stay in the dead-letter queue, each with why', async () => {
    const t = setup();
    t.deadLetters.add(letter('b-1', 1, '10'), body('b-1', 1, 'ItemAdded', { sku: 'S', quantity: 1, unitPrice: 1 }));
    t.deadLetters.add(letter('b-1', 2, '11'), body('b-1', 2, 'ItemAdded', { sku: 'S', quantity: 1, unitPrice: 1 }));
    t.orders.failNext('get', new Error('ECONNREFUSED 127.0.0.1:10002'));
    const replay = replayContract.parse((await t.replay('b-1')).body);
    assert.deepEqual(
      replay.letters.map((l) => [l.sequence, l.outcome, l.removed]),
      [
        [1, 'failed', false],
        [2, 'notAttempted', false],
      ],
    );
    assert.match(replay.letters[0]?.detail ?? '', /ECONNREFUSED.*stays in the dead-letter queue/);
    assert.equal(replay.remaining, 2);
    assert.equal(t.deadLetters.letters.length, 2);
    assert.ok(t.logs.some((line) => /^error: replayDeadLetters outcome=retry basket=b-1 sequence=1 /.test(line)));
  });

  it('retries from a fresh read when the session trigger wrote the record first (ETag conflict)', async () => {
    const t = setup();
    t.deadLetters.add(letter('b-1', 1, '10'), body('b-1', 1, 'ItemAdded', { sku: 'S', quantity: 1, unitPrice: 1 }));
    t.orders.failNext('create', new ConcurrencyConflictError('b-1'));
    const replay = replayContract.parse((await t.replay('b-1')).body);
    assert.deepEqual(
      replay.letters.map((l) => [l.outcome, l.removed]),
      [['applied', true]],
    );
    assert.equal(t.orders.peek('b-1')?.lastAppliedSequence, 1);
  });

  it('answers 400 for a basket id that cannot exist and 503 when the dead-letter queue cannot be read', async () => {
    const t = setup();
    assert.equal((await t.replay('bad id!')).status, 400);
    t.deadLetters.failNext('peek', new Error('amqp:connection:forced'));
    const down = await t.replay('b-1');
    assert.equal(down.status, 503);
    assert.match(
      JSON.stringify(down.body),
      /Replaying the dead letters of basket b-1 failed \(amqp:connection:forced\)/,
    );
  });
});

describe('listDeadLetters', () => {
  it('groups by basket (no session id under null) and refuses a scan bound out of range', async () => {
    const deadLetters = new InMemoryDeadLetterQueue();
    deadLetters.add(letter('b-2', 1, '1'), {});
    deadLetters.add({ serviceSequenceNumber: '2', messageId: 'x', deliveryCount: 1 }, 'junk');
    deadLetters.add(letter('b-1', 1, '3'), {});
    deadLetters.add(letter('b-2', 2, '4'), {});
    const handler = makeListDeadLetters({ deadLetters: () => deadLetters });
    const get = (query: Record<string, string>) =>
      handler(
        new HttpRequest({ method: 'GET', url: 'http://localhost:7071/api/dead-letters', query }),
        new InvocationContext({ functionName: 'listDeadLetters' }),
      );
    const all = await get({});
    const parsed = z
      .object({
        count: z.number(),
        scanned: z.number(),
        complete: z.boolean(),
        baskets: z.array(z.object({ basketId: z.string().nullable(), count: z.number() })),
      })
      .parse(all.jsonBody);
    assert.deepEqual([parsed.count, parsed.scanned, parsed.complete], [4, 4, true]);
    assert.deepEqual(
      parsed.baskets.map((b) => [b.basketId, b.count]),
      [
        [null, 1],
        ['b-1', 1],
        ['b-2', 2],
      ],
    );
    const partial = z.object({ scanned: z.number(), complete: z.boolean() }).parse((await get({ scan: '2' })).jsonBody);
    assert.deepEqual(partial, { scanned: 2, complete: false });
    assert.equal((await get({ scan: '0' })).status, 400);
    assert.equal((await get({ scan: '5001' })).status, 400);
  });
});
