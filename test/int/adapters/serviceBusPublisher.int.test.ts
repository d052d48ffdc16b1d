import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceBusClient, ServiceBusReceivedMessage } from '@azure/service-bus';
import { ManualClock, startEmulator, type RunningEmulator } from '@convoy/servicebus-emulator';
import { ServiceBusEventPublisher, serviceBusClientFor } from '../../../src/adapters/serviceBusPublisher';
import { eventEnvelopeSchema, eventIdFor, type EventEnvelope } from '../../../src/domain/events';
import { setupTelemetry, shutdownTelemetry } from '../../../src/telemetry/setup';
import { contextOfInvocation } from '../../../src/telemetry/tracing';

const queue = 'order-events';
const occurredAt = '2026-03-01T10:00:00.000Z';

function itemAdded(basketId: string, sequence: number): EventEnvelope {
  return {
    basketId,
    sequence,
    eventId: eventIdFor(basketId, sequence),
    occurredAt,
    type: 'ItemAdded',
    data: { sku: `SKU-${String(sequence % 7)}`, quantity: 1 + (sequence % 5), unitPrice: 9.5 },
  };
}

async function receiveAll(
  client: ServiceBusClient,
  sessionId: string,
  count: number,
): Promise<ServiceBusReceivedMessage[]> {
  const receiver = await client.acceptSession(queue, sessionId, { receiveMode: 'receiveAndDelete' });
  try {
    const received: ServiceBusReceivedMessage[] = [];
    while (received.length < count) {
      const batch = await receiver.receiveMessages(count - received.length, { maxWaitTimeInMs: 1_000 });
      if (batch.length === 0) break;
      received.push(...batch);
    }
    return received;
  } finally {
    await receiver.close();
  }
}

describe('ServiceBusEventPublisher against the local Service Bus emulator', () => {
  let emulator: RunningEmulator;
  let client: ServiceBusClient;
  let publisher: ServiceBusEventPublisher;
  const clock = new ManualClock(Date.parse('2026-03-01T10:00:00.000Z'));

  before(async () => {
    emulator = await startEmulator({ clock });
    client = serviceBusClientFor({ kind: 'connectionString', connectionString: emulator.connectionString });
    publisher = new ServiceBusEventPublisher(client.createSender(queue));
  });
  after(async () => {
    await publisher.close();
    await client.close();
    await emulator.close();
  });

  it('sets sessionId, messageId, subject, contentType and application properties; the body is the envelope', async () => {
    const event = itemAdded('b-props', 1);
    await publisher.publish([{ event }]);
    const [message] = await receiveAll(client, 'b-props', 1);
    assert.ok(message);
    assert.equal(message.sessionId, 'b-props');
    assert.equal(message.messageId, 'b-props:1');
    assert.equal(message.subject, 'ItemAdded');
    assert.equal(message.contentType, 'application/json');
    assert.deepEqual(message.applicationProperties, { eventType: 'ItemAdded', sequence: 1, basketId: 'b-props' });
    assert.deepEqual(eventEnvelopeSchema.parse(message.body), event);
  });

  it("stamps the cause's trace with nothing exported, though no span is active (no context manager)", async () => {
    const hostParent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    setupTelemetry({ export: { kind: 'none' }, appInsightsConnectionString: undefined });
    try {
      await publisher.publish([{ event: itemAdded('b-trace', 1) }], contextOfInvocation({ traceParent: hostParent }));
    } finally {
      await shutdownTelemetry();
    }
    const [message] = await receiveAll(client, 'b-trace', 1);
    const properties = message?.applicationProperties ?? {};
    assert.equal(properties.traceparent, hostParent);
    assert.equal(properties['Diagnostic-Id'], hostParent);
  });

  it('keeps the given order across several batches, per session, when sessions are interleaved', async () => {
    // ~1,800 events is several 256 KB batches: the publisher must flush and continue in order.
    const perBasket = 900;
    const events = Array.from({ length: perBasket }, (_, i) => [
      { event: itemAdded('b-order-1', i + 1) },
      { event: itemAdded('b-order-2', i + 1) },
    ]).flat();
    // The bodies alone exceed one 256 KB batch, so at least one flush happened mid-way.
    assert.ok(events.reduce((sum, { event }) => sum + JSON.stringify(event).length, 0) > 262_144);
    await publisher.publish(events);
    for (const basketId of ['b-order-1', 'b-order-2']) {
      const received = await receiveAll(client, basketId, perBasket);
      assert.equal(received.length, perBasket);
      assert.deepEqual(
        received.map((m) => m.messageId),
        Array.from({ length: perBasket }, (_, i) => eventIdFor(basketId, i + 1)),
      );
    }
  });

  it('refuses an event too big for one message, after sending what came before it', async () => {
    const shortages = Array.from({ length: 20_000 }, (_, i) => ({
      sku: `SKU-${String(i)}`,
      requested: 1,
      available: 0,
    }));
    const huge = eventEnvelopeSchema.parse({
      ...itemAdded('b-huge', 2),
      type: 'InventoryUpdated',
      data: { outcome: 'insufficient', shortages },
    });
    await assert.rejects(
      publisher.publish([{ event: itemAdded('b-huge', 1) }, { event: huge }]),
      /^Error: Event b-huge:2 does not fit in one Service Bus message \(max \d+ bytes\)\.$/,
    );
    const received = await receiveAll(client, 'b-huge', 2);
    assert.deepEqual(
      received.map((message) => message.messageId),
      ['b-huge:1'],
    );
  });

  it('turns notBefore into a scheduled enqueue time: the message is invisible until then', async () => {
    const due = new Date(clock.now() + 60_000);
    await publisher.publish([{ event: itemAdded('b-later', 1), options: { notBefore: due } }]);
    assert.equal((await receiveAll(client, 'b-later', 1).catch(() => [])).length, 0);
    clock.advance(60_000);
    const [message] = await receiveAll(client, 'b-later', 1);
    assert.equal(message?.messageId, 'b-later:1');
    assert.equal(message.scheduledEnqueueTimeUtc?.toISOString(), due.toISOString());
  });
});
