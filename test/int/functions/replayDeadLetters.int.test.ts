import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { ServiceBusClient, type ServiceBusReceivedMessage, type ServiceBusSender } from '@azure/service-bus';
import { TableClient } from '@azure/data-tables';
import { z } from 'zod';
import { freePort } from '@convoy/dev-stack';
import { startEmulator, type RunningEmulator } from '@convoy/servicebus-emulator';
import { ServiceBusDeadLetterQueue } from '../../../src/adapters/serviceBusDeadLetters';
import { orderRowKey } from '../../../src/adapters/tableOrderStore';
import { toServiceBusMessage } from '../../../src/adapters/serviceBusPublisher';
import { eventEnvelopeSchema } from '../../../src/domain/events';
import { makeListBasketDeadLetters } from '../../../src/functions/listBasketDeadLetters';
import { makeListDeadLetters } from '../../../src/functions/listDeadLetters';
import type { ProcessOrderEventHandler } from '../../../src/functions/processOrderEvent';
import { makeReplayDeadLetters } from '../../../src/functions/replayDeadLetters';
import { makeReplayQuarantined } from '../../../src/functions/replayQuarantined';
import { orderViewContract, paidBasket, quarantineListContract } from './support/basket';
import { failFastStoresFor, maxParkedEvents, startConvoyHarness, type ConvoyHarness } from './support/convoyHarness';
import { racingStores } from './support/racingStores';
import type { Delivery } from './support/serviceBusDelivery';

/**
 * Dead letters made by the real broker (the emulator, max delivery count 10) and by the SDK's
 * deadLetterMessage, seen through the real order view and listing handlers, and replayed by the real
 * replay handlers with the Service Bus dead-letter adapter and the Table adapters on Azurite. Only
 * the fulfillment starter (the Durable port) is the harness's recording fake.
 */

const queue = 'order-events'; // the emulator's built-in config: sessions, max delivery count 10

const letterContract = z.object({
  serviceSequenceNumber: z.string(),
  messageId: z.string(),
  sessionId: z.string().optional(),
  sequence: z.number().int().optional(),
  type: z.string().optional(),
  reason: z.string().optional(),
  description: z.string().optional(),
  deliveryCount: z.number().int(),
  enqueuedAt: z.string().optional(),
});
const viewWithDeadLetters = orderViewContract.extend({
  deadLettered: z.array(letterContract),
  deadLetterCheck: z.union([
    z.strictObject({ scanned: z.number().int(), complete: z.boolean() }),
    z.strictObject({ error: z.string() }),
  ]),
});
const orderAfterContract = z.strictObject({
  status: z.string(),
  lastAppliedSequence: z.number().int(),
  parkedSequences: z.array(z.number().int()),
});
const basketReplayContract = z.strictObject({
  basketId: z.string(),
  found: z.number().int(),
  scanned: z.number().int(),
  complete: z.boolean(),
  remaining: z.number().int(),
  letters: z.array(letterContract.extend({ outcome: z.string(), detail: z.string(), removed: z.boolean() })),
  order: orderAfterContract.optional(),
});
const quarantineReplayContract = z.strictObject({
  messageId: z.string(),
  outcome: z.string(),
  detail: z.string(),
  removed: z.boolean(),
  order: orderAfterContract.optional(),
});

function context(name: string): InvocationContext {
  return new InvocationContext({ functionName: name, invocationId: `${name}-test`, logHandler: () => undefined });
}

async function json(response: Promise<HttpResponseInit>): Promise<{ status: number; body: unknown }> {
  const init = await response;
  const body: unknown = init.jsonBody ?? null;
  return { status: init.status ?? 200, body: JSON.parse(JSON.stringify(body)) };
}

/** The harness's delivery for a message the emulator handed out (the .NET client counts from 1). */
function deliveryOf(message: ServiceBusReceivedMessage): Delivery {
  const properties: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(message.applicationProperties ?? {})) {
    if (typeof value === 'string' || typeof value === 'number') properties[name] = value;
  }
  assert.ok(message.sequenceNumber !== undefined && message.enqueuedTimeUtc !== undefined);
  return {
    body: message.body,
    sessionId: message.sessionId ?? null,
    messageId: String(message.messageId),
    deliveryCount: (message.deliveryCount ?? 0) + 1,
    sequenceNumber: message.sequenceNumber.toNumber(),
    enqueuedTimeUtc: message.enqueuedTimeUtc,
    applicationProperties: properties,
    ...(message.subject === undefined ? {} : { subject: message.subject }),
  };
}

describe('dead letters: visible in the order view, listed, replayed through the convoy core (emulator + Azurite)', () => {
  let h: ConvoyHarness;
  let emulator: RunningEmulator;
  let client: ServiceBusClient;
  let sender: ServiceBusSender;
  let deadLetters: ServiceBusDeadLetterQueue;
  /** processOrderEvent over Table endpoints where nothing listens: every call fails, as in an outage. */
  let storageDown: ProcessOrderEventHandler;
  let deadStores: ReturnType<typeof failFastStoresFor>;

  before(async () => {
    [h, emulator] = await Promise.all([startConvoyHarness(), startEmulator()]);
    client = new ServiceBusClient(emulator.connectionString);
    sender = client.createSender(queue);
    deadLetters = new ServiceBusDeadLetterQueue(() => client, queue);
    const nowhere = h.azurite.connectionString.replace(
      /TableEndpoint=http:\/\/127\.0\.0\.1:\d+\//,
      `TableEndpoint=http://127.0.0.1:${String(await freePort())}/`,
    );
    assert.notEqual(nowhere, h.azurite.connectionString);
    deadStores = failFastStoresFor(nowhere);
    storageDown = h.handlerWith(deadStores.orders, deadStores.quarantine);
  });
  after(async () => {
    await sender.close();
    await client.close();
    await emulator.close();
    await h.close();
  });

  const replayDeps = () => ({
    orderStore: () => h.orders,
    quarantineStore: () => h.quarantine,
    deadLetters: () => deadLetters,
    fulfillmentStarterFor: () => h.fulfillment,
    now: h.clock.now,
    maxParkedEvents: () => maxParkedEvents,
  });

  async function publish(bodies: unknown[]): Promise<void> {
    await sender.sendMessages(bodies.map((body) => toServiceBusMessage(eventEnvelopeSchema.parse(body))));
  }

  /**
   * Plays the host for one session: each message goes to processOrderEvent (`handlerFor` picks which
   * wiring); completed when it returns, abandoned when it throws, until the session is empty.
   */
  async function consume(sessionId: string, handlerFor: (sequence: number) => ProcessOrderEventHandler) {
    const receiver = await client.acceptSession(queue, sessionId);
    try {
      for (;;) {
        const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 });
        if (message === undefined) return;
        const delivery = deliveryOf(message);
        const sequence = Number(delivery.applicationProperties?.sequence ?? 0);
        try {
          await h.deliver(delivery, handlerFor(sequence));
        } catch {
          await receiver.abandonMessage(message);
          continue;
        }
        await receiver.completeMessage(message);
      }
    } finally {
      await receiver.close();
    }
  }

  async function view(basketId: string) {
    const answer = await h.getOrder(basketId, h.orders, deadLetters);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return viewWithDeadLetters.parse(answer.body);
  }

  async function replayBasket(basketId: string, stores = { orders: h.orders, quarantine: h.quarantine }) {
    const answer = await json(
      makeReplayDeadLetters({
        ...replayDeps(),
        orderStore: () => stores.orders,
        quarantineStore: () => stores.quarantine,
      })(
        new HttpRequest({
          method: 'POST',
          url: `http://127.0.0.1:7071/api/dead-letters/${basketId}/replay`,
          params: { basketId },
        }),
        context('replayDeadLetters'),
      ),
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return basketReplayContract.parse(answer.body);
  }

  async function replayQuarantined(messageId: string, correction?: unknown) {
    const text = correction === undefined ? undefined : JSON.stringify(correction);
    return json(
      makeReplayQuarantined(replayDeps())(
        new HttpRequest({
          method: 'POST',
          url: `http://127.0.0.1:7071/api/quarantine/${encodeURIComponent(messageId)}/replay`,
          params: { messageId },
          headers: { 'content-length': String(text === undefined ? 0 : Buffer.byteLength(text)) },
          ...(text === undefined ? {} : { body: { string: text } }),
        }),
        context('replayQuarantined'),
      ),
    );
  }

  it('an event that exhausted its deliveries: the view names it, replay applies it and its parked successors, once', async () => {
    // Storage is down for sequence 2 only: ten deliveries, then the broker dead-letters it.
    await publish(paidBasket('b-dlq'));
    await consume('b-dlq', (sequence) => (sequence === 2 ? storageDown : h.handler));
    // Another basket's dead letter, which the replay of b-dlq must leave where it is.
    const [other] = paidBasket('b-other');
    await publish([other]);
    const otherReceiver = await client.acceptSession(queue, 'b-other');
    const [otherMessage] = await otherReceiver.receiveMessages(1, { maxWaitTimeInMs: 1000 });
    assert.ok(otherMessage);
    await otherReceiver.deadLetterMessage(otherMessage, {
      deadLetterReason: 'OperatorTest',
      deadLetterErrorDescription: 'dead-lettered by the test',
    });
    await otherReceiver.close();

    const stuck = await view('b-dlq');
    assert.equal(stuck.status, 'Open');
    assert.equal(stuck.lastAppliedSequence, 1);
    assert.deepEqual(
      stuck.parked.map((p) => p.sequence),
      [3, 4],
    );
    assert.equal(stuck.deadLettered.length, 1, JSON.stringify(stuck.deadLettered));
    const letter = stuck.deadLettered[0];
    assert.ok(letter);
    assert.equal(letter.sequence, 2);
    assert.equal(letter.messageId, 'b-dlq:2');
    assert.equal(letter.reason, 'MaxDeliveryCountExceeded');
    assert.match(letter.description ?? '', /10 delivery attempts/);
    assert.ok(letter.enqueuedAt !== undefined && !Number.isNaN(Date.parse(letter.enqueuedAt)));
    assert.deepEqual(stuck.deadLetterCheck, { scanned: 2, complete: true });

    const all = await json(
      makeListDeadLetters({ deadLetters: () => deadLetters })(
        new HttpRequest({ method: 'GET', url: 'http://127.0.0.1:7071/api/dead-letters' }),
        context('listDeadLetters'),
      ),
    );
    assert.equal(all.status, 200);
    const grouped = z
      .object({
        count: z.number(),
        complete: z.boolean(),
        baskets: z.array(
          z.object({ basketId: z.string().nullable(), count: z.number(), messages: z.array(letterContract) }),
        ),
      })
      .parse(all.body);
    assert.equal(grouped.count, 2);
    assert.deepEqual(
      grouped.baskets.map((b) => [b.basketId, b.messages.map((m) => m.sequence)]),
      [
        ['b-dlq', [2]],
        ['b-other', [1]],
      ],
    );
    const mine = await json(
      makeListBasketDeadLetters({ deadLetters: () => deadLetters })(
        new HttpRequest({
          method: 'GET',
          url: 'http://127.0.0.1:7071/api/dead-letters/b-other',
          params: { basketId: 'b-other' },
        }),
        context('listBasketDeadLetters'),
      ),
    );
    const otherList = z.object({ count: z.number(), messages: z.array(letterContract) }).parse(mine.body);
    assert.deepEqual(
      otherList.messages.map((m) => [m.messageId, m.reason, m.description]),
      [['b-other:1', 'OperatorTest', 'dead-lettered by the test']],
    );

    // Storage still down: nothing is lost, the response says which message stays and why.
    const failed = await replayBasket('b-dlq', deadStores);
    assert.deepEqual(
      failed.letters.map((l) => [l.sequence, l.outcome, l.removed]),
      [[2, 'failed', false]],
    );
    assert.match(failed.letters[0]?.detail ?? '', /ECONNREFUSED.*stays in the dead-letter queue/);
    assert.equal(failed.remaining, 1);
    assert.equal((await view('b-dlq')).deadLettered.length, 1, 'given back to the dead-letter queue');

    const replay = await replayBasket('b-dlq');
    assert.equal(replay.found, 1);
    assert.equal(replay.remaining, 0);
    assert.deepEqual(
      replay.letters.map((l) => [l.sequence, l.outcome, l.removed]),
      [[2, 'applied', true]],
    );
    assert.match(replay.letters[0]?.detail ?? '', /Applied sequences 2, 3, 4/);
    assert.deepEqual(replay.order, { status: 'Paid', lastAppliedSequence: 4, parkedSequences: [] });
    assert.equal(h.fulfillment.started.get('b-dlq')?.nextSequence, 5, 'the payment started the fulfillment');

    const healed = await view('b-dlq');
    assert.equal(healed.status, 'Paid');
    assert.deepEqual(
      healed.applied.map((a) => a.sequence),
      [1, 2, 3, 4],
    );
    assert.deepEqual(healed.deadLettered, []);
    assert.deepEqual(
      (await deadLetters.peek(undefined, 100)).messages.map((m) => m.messageId),
      ['b-other:1'],
      "only b-dlq's dead letter left the queue; b-other's was given back",
    );

    // Twice is harmless: nothing left to replay, the order is as it was.
    const again = await replayBasket('b-dlq');
    assert.deepEqual([again.found, again.remaining, again.letters.length], [0, 0, 0]);
    const unchanged = await view('b-dlq');
    assert.deepEqual(
      unchanged.applied.map((a) => a.sequence),
      [1, 2, 3, 4],
    );
    assert.equal(unchanged.duplicates.length, 0);
  });

  it('a dead letter already on its order (saved, then its settlement failed) is recognised as a duplicate and removed', async () => {
    const events = paidBasket('b-twice');
    await publish(events.slice(0, 2));
    const receiver = await client.acceptSession(queue, 'b-twice');
    for (const message of await receiver.receiveMessages(2, { maxWaitTimeInMs: 1000 })) {
      await h.deliver(deliveryOf(message));
      // Sequence 2 was saved on its order, but it ends in the dead-letter queue all the same.
      if (message.messageId === 'b-twice:2')
        await receiver.deadLetterMessage(message, {
          deadLetterReason: 'Test',
          deadLetterErrorDescription: 'saved, not settled',
        });
      else await receiver.completeMessage(message);
    }
    await receiver.close();
    assert.deepEqual(
      (await view('b-twice')).deadLettered.map((l) => l.messageId),
      ['b-twice:2'],
    );

    // Re-sending under the same id inside the window is dropped by the broker: why replay never re-sends.
    await publish([events[1]]);
    const again = await client.acceptSession(queue, 'b-twice');
    assert.equal((await again.receiveMessages(1, { maxWaitTimeInMs: 300 })).length, 0, 'duplicate detection');
    await again.close();

    const replay = await replayBasket('b-twice');
    assert.deepEqual(
      replay.letters.map((l) => [l.messageId, l.outcome, l.removed]),
      [['b-twice:2', 'duplicate', true]],
    );
    const order = await view('b-twice');
    assert.deepEqual(
      order.applied.map((a) => a.sequence),
      [1, 2],
    );
    assert.deepEqual(
      order.duplicates.map((d) => d.eventId),
      ['b-twice:2'],
    );
    assert.deepEqual(order.deadLettered, []);
  });

  it('a replay racing the session trigger on the same order: the ETag makes one retry, nothing lost or doubled', async () => {
    const events = paidBasket('b-race');
    await h.deliver(h.send(events[0]));
    await publish([events[1]]);
    const receiver = await client.acceptSession(queue, 'b-race');
    const [second] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 1000 });
    assert.ok(second);
    await receiver.deadLetterMessage(second, { deadLetterReason: 'Test', deadLetterErrorDescription: 'race' });
    await receiver.close();

    // Both read the same version; the trigger (parking 3) writes first, the replay's write then conflicts.
    const stores = racingStores(h.orders);
    const [replay] = await Promise.all([
      replayBasket('b-race', { orders: stores.second, quarantine: h.quarantine }),
      h.deliver(h.send(events[2]), h.handlerWith(stores.first)),
    ]);
    assert.deepEqual(
      replay.letters.map((l) => [l.sequence, l.outcome, l.removed]),
      [[2, 'applied', true]],
    );
    assert.match(replay.letters[0]?.detail ?? '', /Applied sequences 2, 3\./);
    const order = await view('b-race');
    assert.deepEqual(
      order.applied.map((a) => a.sequence),
      [1, 2, 3],
    );
    assert.deepEqual([order.parked.length, order.duplicates.length, order.deadLettered.length], [0, 0, 0]);
  });

  it('a poison dead letter is quarantined by the replay with its reason, and leaves the dead-letter queue', async () => {
    await sender.sendMessages({ body: 'not json at all', sessionId: 'b-poison', messageId: 'poison-1' });
    const receiver = await client.acceptSession(queue, 'b-poison');
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 1000 });
    assert.ok(message);
    await receiver.deadLetterMessage(message, { deadLetterReason: 'Test', deadLetterErrorDescription: 'poison' });
    await receiver.close();

    const replay = await replayBasket('b-poison');
    assert.deepEqual(
      replay.letters.map((l) => [l.messageId, l.outcome, l.removed]),
      [['poison-1', 'quarantined', true]],
    );
    assert.match(replay.letters[0]?.detail ?? '', /no usable basketId and sequence/);
    const listed = quarantineListContract.parse((await h.listQuarantine(100)).body);
    const quarantined = listed.messages.find((m) => m.messageId === 'poison-1');
    assert.ok(quarantined);
    assert.equal(quarantined.sessionId, 'b-poison');
    assert.match(quarantined.reason, /no usable basketId and sequence/);
    assert.equal((await deadLetters.peek('b-poison', 100)).messages.length, 0);
  });

  it('quarantine replay: as stored it stays quarantined; corrected, or once the cause is fixed, it is applied and the row removed', async () => {
    // A producer bug: sequence 1 of b-fix sent into session b-wrong, so no order may own it.
    const [first, second] = paidBasket('b-fix');
    await h.deliver(h.send(first, { sessionId: 'b-wrong' }));
    await h.deliver(h.send(second));
    assert.equal((await view('b-fix')).parked.length, 1, 'sequence 2 waits for 1');

    const asStored = await replayQuarantined('b-fix:1');
    assert.equal(asStored.status, 200);
    const stillPoison = quarantineReplayContract.parse(asStored.body);
    assert.deepEqual([stillPoison.outcome, stillPoison.removed], ['quarantined', false]);
    assert.match(stillPoison.detail, /differs from the session id "b-wrong"/);

    const corrected = await replayQuarantined('b-fix:1', { sessionId: 'b-fix' });
    assert.equal(corrected.status, 200, JSON.stringify(corrected.body));
    const applied = quarantineReplayContract.parse(corrected.body);
    assert.deepEqual([applied.outcome, applied.removed], ['applied', true]);
    assert.deepEqual(applied.order, { status: 'Open', lastAppliedSequence: 2, parkedSequences: [] });
    const listed = quarantineListContract.parse((await h.listQuarantine(100)).body);
    assert.equal(
      listed.messages.some((m) => m.messageId === 'b-fix:1'),
      false,
    );
    assert.equal((await replayQuarantined('b-fix:1')).status, 404, 'replayed once; the row is gone');

    // Quarantined because its order's row could not be read; an operator removes the bad row, then replays.
    const raw = TableClient.fromConnectionString(h.azurite.connectionString, 'orders', {
      allowInsecureConnection: true,
    });
    await raw.createEntity({ partitionKey: 'b-unreadable', rowKey: orderRowKey, chunks: 1, json00: '{"basketId":1}' });
    const [one] = paidBasket('b-unreadable');
    await h.deliver(h.send(one));
    const waiting = quarantineListContract.parse((await h.listQuarantine(100)).body);
    assert.match(waiting.messages.find((m) => m.messageId === 'b-unreadable:1')?.reason ?? '', /cannot be read/);
    await raw.deleteEntity('b-unreadable', orderRowKey);
    const fixed = quarantineReplayContract.parse((await replayQuarantined('b-unreadable:1')).body);
    assert.deepEqual([fixed.outcome, fixed.removed, fixed.order?.lastAppliedSequence], ['applied', true, 1]);
  });
});
