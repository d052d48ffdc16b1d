import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { ServiceBusClient, type ServiceBusReceivedMessage } from '@azure/service-bus';
import { z } from 'zod';
import { ManualClock, startEmulator, type RunningEmulator } from '@convoy/servicebus-emulator';
import { ServiceBusEventPublisher } from '../../../src/adapters/serviceBusPublisher';
import { eventEnvelopeSchema, type EventEnvelope } from '../../../src/domain/events';
import { makePublishSessions } from '../../../src/functions/publishSessions';
import { problemContract } from './support/basket';

/**
 * The real publishSessions handler with the real ServiceBusEventPublisher against the local Service
 * Bus emulator (session-enabled queue, duplicate detection on), then the sessions received back with
 * the SDK: every message's sessionId, messageId, subject, order and scheduled enqueue time.
 * The emulator runs on a manual clock, so scheduled messages become visible when the test says.
 */

const queue = 'order-events'; // the emulator's built-in config
const start = Date.parse('2026-03-01T10:00:00.000Z');

const acceptedSchema = z.strictObject({
  baskets: z.array(z.strictObject({ basketId: z.string(), events: z.number().int(), statusUrl: z.string() })),
});

describe('publishSessions → ServiceBusEventPublisher → Service Bus emulator', () => {
  let emulator: RunningEmulator;
  let client: ServiceBusClient;
  let publisher: ServiceBusEventPublisher;
  const clock = new ManualClock(start);
  let runs = 0;
  const logs: string[] = [];

  before(async () => {
    emulator = await startEmulator({ clock });
    client = new ServiceBusClient(emulator.connectionString);
    publisher = new ServiceBusEventPublisher(client.createSender(queue));
  });
  after(async () => {
    await publisher.close();
    await client.close();
    await emulator.close();
  });

  const handler = makePublishSessions({
    publisher: () => publisher,
    now: () => new Date(clock.now()),
    runId: () => {
      runs += 1;
      return `run${String(runs)}`;
    },
  });

  async function post(body: unknown): Promise<HttpResponseInit> {
    const text = JSON.stringify(body);
    return handler(
      new HttpRequest({
        method: 'POST',
        url: 'http://127.0.0.1:7071/api/sessions',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) },
        body: { string: text },
      }),
      new InvocationContext({
        functionName: 'publishSessions',
        invocationId: `post-${String(runs)}`,
        logHandler: (level, ...args) => logs.push(`${level}: ${args.map(String).join(' ')}`),
      }),
    );
  }

  /** Everything currently visible in one session, in delivery order. */
  async function receiveSession(
    sessionId: string,
    atMost: number,
    waitMs = 1_000,
  ): Promise<ServiceBusReceivedMessage[]> {
    const receiver = await client.acceptSession(queue, sessionId, { receiveMode: 'receiveAndDelete' });
    try {
      const received: ServiceBusReceivedMessage[] = [];
      while (received.length < atMost) {
        const batch = await receiver.receiveMessages(atMost - received.length, { maxWaitTimeInMs: waitMs });
        if (batch.length === 0) break;
        received.push(...batch);
      }
      return received;
    } finally {
      await receiver.close();
    }
  }

  function envelopeOf(message: ServiceBusReceivedMessage): EventEnvelope {
    return eventEnvelopeSchema.parse(message.body);
  }

  it('generated, interleaved baskets: each session holds its events in sequence with every wire property set', async () => {
    const response = await post({ generate: { baskets: 3, itemsPerBasket: 2, interleave: true } });
    assert.equal(response.status, 202);
    const accepted = acceptedSchema.parse(response.jsonBody);
    assert.deepEqual(
      accepted.baskets.map((b) => [b.basketId, b.events, b.statusUrl]),
      [1, 2, 3].map((n) => [`b-run1-${String(n)}`, 4, `/api/orders/b-run1-${String(n)}`]),
    );

    const all: { basket: number; message: ServiceBusReceivedMessage }[] = [];
    for (const [index, { basketId }] of accepted.baskets.entries()) {
      const messages = await receiveSession(basketId, 4);
      assert.deepEqual(
        messages.map((m) => [m.sessionId, m.messageId, m.subject, m.contentType]),
        ['ItemAdded', 'ItemAdded', 'BasketCheckedOut', 'PaymentMade'].map((type, k) => [
          basketId,
          `${basketId}:${String(k + 1)}`,
          type,
          'application/json',
        ]),
      );
      const envelopes = messages.map(envelopeOf);
      assert.deepEqual(
        messages.map((m) => m.applicationProperties),
        envelopes.map((e) => ({ eventType: e.type, sequence: e.sequence, basketId })),
      );
      const items = envelopes.flatMap((e) => (e.type === 'ItemAdded' ? [e.data] : []));
      const total = items.reduce((sum, item) => sum + Math.round(item.unitPrice * 100) * item.quantity, 0);
      assert.deepEqual(envelopes[3]?.data, { amount: total / 100, currency: 'EUR' }, 'payment = basket total');
      assert.ok(
        messages.every((m) => m.scheduledEnqueueTimeUtc === undefined),
        'no delay asked, none scheduled',
      );
      all.push(...messages.map((message) => ({ basket: index + 1, message })));
    }
    // Interleaved on the wire: by broker sequence number the baskets take turns, event by event.
    const wireOrder = all
      .sort((a, b) => Number(a.message.sequenceNumber?.toString()) - Number(b.message.sequenceNumber?.toString()))
      .map((entry) => entry.basket);
    assert.deepEqual(wireOrder, [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
    assert.ok(logs.includes('information: publishSessions: published 12 events for 3 baskets (interleave true).'));
  });

  it('explicit baskets with a delay: later events are scheduled k × delayMs after the request and invisible until then', async () => {
    const delayMs = 5_000;
    const response = await post({
      baskets: [{ basketId: 'b-later', currency: 'USD', items: [{ sku: 'SKU-9', quantity: 3, unitPrice: 2.5 }] }],
      delayMs,
    });
    assert.equal(response.status, 202);
    assert.deepEqual(acceptedSchema.parse(response.jsonBody).baskets, [
      { basketId: 'b-later', events: 3, statusUrl: '/api/orders/b-later' },
    ]);

    const seen: ServiceBusReceivedMessage[] = [];
    for (let k = 0; k < 3; k++) {
      const visible = await receiveSession('b-later', 3, 300);
      assert.deepEqual(
        visible.map((m) => m.messageId),
        [`b-later:${String(k + 1)}`],
        `at +${String(k * delayMs)} ms exactly event ${String(k + 1)} is visible`,
      );
      seen.push(...visible);
      clock.advance(delayMs);
    }
    assert.deepEqual(
      seen.map((m) => m.scheduledEnqueueTimeUtc?.toISOString()),
      [undefined, new Date(start + delayMs).toISOString(), new Date(start + 2 * delayMs).toISOString()],
    );
    assert.deepEqual(
      seen.map((m) => [m.subject, envelopeOf(m).occurredAt]),
      [
        ['ItemAdded', new Date(start).toISOString()],
        ['BasketCheckedOut', new Date(start + delayMs).toISOString()],
        ['PaymentMade', new Date(start + 2 * delayMs).toISOString()],
      ],
    );
  });

  it('a retried POST of explicit baskets is dropped by duplicate detection (deterministic message ids)', async () => {
    const request = {
      baskets: [{ basketId: 'b-retry', currency: 'EUR', items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 9.5 }] }],
    };
    assert.equal((await post(request)).status, 202);
    assert.equal((await post(request)).status, 202);
    const messages = await receiveSession('b-retry', 10, 500);
    assert.deepEqual(
      messages.map((m) => m.messageId),
      ['b-retry:1', 'b-retry:2', 'b-retry:3'],
    );
  });

  it('an invalid request publishes nothing and answers a problem', async () => {
    const response = await post({ baskets: [{ basketId: 'b-invalid-post', currency: 'euro', items: [] }] });
    assert.equal(response.status, 400);
    assert.equal(new Headers(response.headers).get('content-type'), 'application/problem+json');
    problemContract.parse(response.jsonBody);
    assert.deepEqual(await receiveSession('b-invalid-post', 1, 300), []);
  });
});
