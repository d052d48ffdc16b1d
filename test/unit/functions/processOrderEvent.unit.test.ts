import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvocationContext } from '@azure/functions';
import {
  ConcurrencyConflictError,
  RecordTooLargeError,
  UnreadableRecordError,
  type StoredOrder,
} from '../../../src/adapters/ports';
import { eventIdFor } from '../../../src/domain/events';
import {
  decodeBody,
  makeProcessOrderEvent,
  parseTriggerMetadata,
  processOrderEventName,
} from '../../../src/functions/processOrderEvent';
import {
  InMemoryOrderStore,
  InMemoryQuarantineStore,
  ManualClock,
  RecordingFulfillmentStarter,
} from '../../support/fakes';

/** What a producer puts on the wire for one event of a basket. */
function rawEvent(basketId: string, sequence: number, type: string, data: unknown): Record<string, unknown> {
  return {
    basketId,
    sequence,
    eventId: eventIdFor(basketId, sequence),
    type,
    occurredAt: '2026-01-01T10:00:00.000Z',
    data,
  };
}

/** A basket of 2 × SKU-1 at 9.50 and 1 × SKU-2 at 1.25, checked out and paid in EUR (20.25). */
function paidBasket(basketId: string): Record<string, unknown>[] {
  return [
    rawEvent(basketId, 1, 'ItemAdded', { sku: 'SKU-1', quantity: 2, unitPrice: 9.5 }),
    rawEvent(basketId, 2, 'ItemAdded', { sku: 'SKU-2', quantity: 1, unitPrice: 1.25 }),
    rawEvent(basketId, 3, 'BasketCheckedOut', { currency: 'EUR' }),
    rawEvent(basketId, 4, 'PaymentMade', { amount: 20.25, currency: 'EUR' }),
  ];
}

interface Delivered {
  /** Numbers stand for ids the library JSON-parsed from the host's strings. */
  sessionId?: string | number;
  messageId?: string | number;
  deliveryCount?: number;
  sequenceNumber?: unknown;
  enqueuedTimeUtc?: string;
}

function setup(maxParkedEvents = 10) {
  const orders = new InMemoryOrderStore();
  const quarantine = new InMemoryQuarantineStore();
  const fulfillment = new RecordingFulfillmentStarter();
  const clock = new ManualClock();
  const logs: { level: string; line: string }[] = [];
  let brokerSequence = 500;
  const handler = makeProcessOrderEvent({
    orderStore: () => orders,
    quarantineStore: () => quarantine,
    fulfillmentStarterFor: () => fulfillment,
    now: clock.now,
    maxParkedEvents: () => maxParkedEvents,
  });

  /** Delivers one message as the host would: body plus trigger metadata, through a public InvocationContext. */
  async function deliver(body: unknown, delivered: Delivered = {}): Promise<void> {
    brokerSequence += 1;
    clock.advance(1000);
    const event = typeof body === 'object' && body !== null && 'eventId' in body ? body.eventId : undefined;
    const context = new InvocationContext({
      functionName: processOrderEventName,
      invocationId: `inv-${String(brokerSequence)}`,
      triggerMetadata: {
        sessionId:
          'sessionId' in delivered
            ? delivered.sessionId
            : typeof body === 'object' && body !== null && 'basketId' in body
              ? body.basketId
              : undefined,
        messageId: delivered.messageId ?? (typeof event === 'string' ? event : `m-${String(brokerSequence)}`),
        deliveryCount: delivered.deliveryCount ?? 1,
        sequenceNumber: delivered.sequenceNumber ?? brokerSequence,
        enqueuedTimeUtc: delivered.enqueuedTimeUtc ?? '2026-01-01T10:00:00Z',
      },
      logHandler: (level, ...args) => logs.push({ level, line: args.map(String).join(' ') }),
    });
    await handler(body, context);
  }

  return { orders, quarantine, fulfillment, clock, logs, deliver };
}

describe('processOrderEvent: in order', () => {
  it('applies a basket in order, ends Paid and starts its fulfillment once with the next sequence', async () => {
    const { orders, fulfillment, deliver, logs } = setup();
    for (const event of paidBasket('b-1')) await deliver(event);

    const record = orders.peek('b-1');
    assert.equal(record?.status, 'Paid');
    assert.deepEqual(
      record.applied.map((entry) => [entry.sequence, entry.type]),
      [
        [1, 'ItemAdded'],
        [2, 'ItemAdded'],
        [3, 'BasketCheckedOut'],
        [4, 'PaymentMade'],
      ],
    );
    assert.deepEqual(
      [...fulfillment.started.values()],
      [
        {
          basketId: 'b-1',
          lines: [
            { sku: 'SKU-1', quantity: 2 },
            { sku: 'SKU-2', quantity: 1 },
          ],
          nextSequence: 5,
        },
      ],
    );
    assert.equal(logs.filter((log) => log.line.includes('outcome=applied')).length, 4);
    assert.match(
      logs[0]?.line ?? '',
      /^processOrderEvent outcome=applied basket=b-1 sequence=1 session=b-1 messageId=b-1:1 deliveryCount=1 serviceSequence=501 /,
    );
  });

  it('puts publish → applied latency on the applied line, from the enqueued time the host sends without a zone', async () => {
    const { deliver, logs } = setup();
    // The clock reads 00:00:01 at the call (setup advances it 1 s); the host's DateTime text is UTC.
    await deliver(paidBasket('b-1')[0], { enqueuedTimeUtc: '2025-12-31T23:59:58.75' });
    await deliver(paidBasket('b-1')[1], { enqueuedTimeUtc: '2026-01-01T00:00:01.5+00:00' });
    assert.match(logs[0]?.line ?? '', /outcome=applied .* latencyMs=2250$/);
    assert.match(logs[1]?.line ?? '', /outcome=applied .* latencyMs=500$/);
  });

  it('keeps the delivery facts from trigger metadata in the applied log', async () => {
    const { orders, deliver } = setup();
    await deliver(paidBasket('b-1')[0], { deliveryCount: 3, sequenceNumber: '9007199254740993' });
    await deliver(paidBasket('b-1')[1], { sequenceNumber: { low: 5, high: 1, unsigned: false } });
    const applied = orders.peek('b-1')?.applied ?? [];
    assert.deepEqual(
      applied.map((entry) => [entry.deliveryCount, entry.serviceSequenceNumber]),
      [
        [3, '9007199254740993'],
        [1, String(2 ** 32 + 5)],
      ],
    );
  });

  it('applies InventoryUpdated after Paid: the order is Fulfilled and no further start is asked for', async () => {
    const { orders, fulfillment, deliver } = setup();
    for (const event of paidBasket('b-1')) await deliver(event);
    await deliver(rawEvent('b-1', 5, 'InventoryUpdated', { outcome: 'reserved' }));
    assert.equal(orders.peek('b-1')?.status, 'Fulfilled');
    assert.equal(fulfillment.calls.length, 1);
  });

  it('accepts the body as a JSON string or as bytes, as the host may hand it over', async () => {
    const { orders, deliver } = setup();
    const [first, second] = paidBasket('b-1');
    await deliver(JSON.stringify(first), { sessionId: 'b-1', messageId: eventIdFor('b-1', 1) });
    await deliver(Buffer.from(JSON.stringify(second)), { sessionId: 'b-1', messageId: eventIdFor('b-1', 2) });
    assert.equal(orders.peek('b-1')?.lastAppliedSequence, 2);
  });
});

describe('processOrderEvent: resequencing and idempotency', () => {
  it('parks an early event and applies it when its predecessor arrives', async () => {
    const { orders, deliver, logs } = setup();
    const [first, second] = paidBasket('b-1');
    await deliver(second);
    assert.deepEqual(
      orders.peek('b-1')?.parked.map((entry) => entry.event.sequence),
      [2],
    );
    assert.match(logs.at(-1)?.line ?? '', /outcome=parked basket=b-1 sequence=2 .* waitingFor=1/);
    await deliver(first);
    assert.equal(orders.peek('b-1')?.lastAppliedSequence, 2);
    assert.match(logs.at(-1)?.line ?? '', /outcome=applied basket=b-1 sequence=1 .* applied=1,2/);
  });

  it('records a redelivered PaymentMade as a duplicate and does not start a second fulfillment', async () => {
    const { orders, fulfillment, deliver } = setup();
    const events = paidBasket('b-1');
    for (const event of events) await deliver(event);
    await deliver(events[3], { deliveryCount: 2 });
    const record = orders.peek('b-1');
    assert.equal(record?.applied.length, 4);
    assert.deepEqual(
      record.duplicates.map((entry) => [entry.sequence, entry.deliveryCount]),
      [[4, 2]],
    );
    assert.equal(fulfillment.started.size, 1);
  });

  it('heals a crash between saving Paid and starting fulfillment: the redelivery starts it', async () => {
    const { orders, fulfillment, deliver } = setup();
    const events = paidBasket('b-1');
    for (const event of events.slice(0, 3)) await deliver(event);
    fulfillment.failNext('ensureStarted', new Error('durable client unreachable'));
    await assert.rejects(deliver(events[3]), /durable client unreachable/);
    assert.equal(orders.peek('b-1')?.status, 'Paid');
    assert.equal(fulfillment.started.size, 0);

    await deliver(events[3], { deliveryCount: 2 });
    assert.equal(fulfillment.started.size, 1);
    assert.equal(orders.peek('b-1')?.duplicates.length, 1);
    // Only the step that saved Paid may skip the status read; the redelivery found Paid saved already.
    assert.deepEqual(fulfillment.hints, [{ paidInThisStep: true }, { paidInThisStep: false }]);
  });
});

describe('processOrderEvent: transient failures throw so the message is redelivered in order', () => {
  it('throws when the store cannot be read, and writes nothing', async () => {
    const { orders, deliver, logs } = setup();
    orders.failNext('get', new Error('ECONNREFUSED'));
    await assert.rejects(deliver(paidBasket('b-1')[0]), /ECONNREFUSED/);
    assert.equal(orders.writes.length, 0);
    assert.match(logs.at(-1)?.line ?? '', /outcome=retry basket=b-1 sequence=1 .*deliveryCount=1.*ECONNREFUSED/);
    assert.equal(logs.at(-1)?.level, 'error');
  });

  it('throws ConcurrencyConflictError when another writer changed the order, then succeeds on redelivery', async () => {
    /** Another consumer (one that lost its lock) writes between our read and our write. */
    class RacingStore extends InMemoryOrderStore {
      race = true;
      override async get(basketId: string): Promise<StoredOrder | undefined> {
        const stored = await super.get(basketId);
        if (this.race && stored !== undefined) {
          this.race = false;
          this.put({ ...stored.record, updatedAt: 'by the other writer' });
        }
        return stored;
      }
    }
    const orders = new RacingStore();
    const handler = makeProcessOrderEvent({
      orderStore: () => orders,
      quarantineStore: () => new InMemoryQuarantineStore(),
      fulfillmentStarterFor: () => new RecordingFulfillmentStarter(),
      now: new ManualClock().now,
      maxParkedEvents: () => 10,
    });
    const [first, second] = paidBasket('b-1');
    const context = (messageId: string) =>
      new InvocationContext({
        triggerMetadata: { sessionId: 'b-1', messageId, deliveryCount: 1, sequenceNumber: 1 },
        logHandler: () => undefined,
      });
    orders.race = false;
    await handler(first, context('b-1:1'));
    orders.race = true;
    await assert.rejects(handler(second, context('b-1:2')), ConcurrencyConflictError);
    assert.equal(orders.peek('b-1')?.lastAppliedSequence, 1);
    await handler(second, context('b-1:2'));
    assert.equal(orders.peek('b-1')?.lastAppliedSequence, 2);
  });

  it('throws when quarantine cannot be written', async () => {
    const { quarantine, deliver } = setup();
    quarantine.failNext('add', new Error('table unavailable'));
    await assert.rejects(deliver('not json at all', { sessionId: undefined }), /table unavailable/);
  });
});

describe('processOrderEvent: permanent failures are recorded and the message completes', () => {
  it('quarantines a body whose basketId differs from the session id, and creates no order', async () => {
    const { orders, quarantine, deliver, logs } = setup();
    await deliver(paidBasket('b-2')[0], { sessionId: 'b-1', messageId: 'm-1' });
    const [message] = await quarantine.list(10);
    assert.equal(message?.messageId, 'm-1');
    assert.equal(message.sessionId, 'b-1');
    assert.match(message.reason, /basketId "b-2" differs from the session id "b-1"/);
    assert.match(message.body, /"basketId":"b-2"/);
    assert.equal(orders.writes.length, 0);
    assert.equal(logs.at(-1)?.level, 'warning');
    assert.match(logs.at(-1)?.line ?? '', /outcome=quarantined session=b-1 messageId=m-1 deliveryCount=1/);
  });

  it('quarantines a message without a session id', async () => {
    const { quarantine, deliver } = setup();
    await deliver(paidBasket('b-1')[0], { sessionId: undefined });
    const [message] = await quarantine.list(10);
    assert.match(message?.reason ?? '', /no session id/);
    assert.equal(message?.sessionId, undefined);
  });

  it('quarantines a body that is not JSON, handing the whole text to the store (which cuts it to fit)', async () => {
    const { quarantine, deliver } = setup();
    const garbage = 'x'.repeat(20_000);
    await deliver(garbage, { sessionId: 'b-1', messageId: 'm-garbage' });
    const [message] = await quarantine.list(10);
    assert.match(message?.reason ?? '', /does not match its schema.*no usable basketId and sequence/);
    assert.equal(message?.body, garbage);
  });

  it('quarantines a redelivered poison message once', async () => {
    const { quarantine, deliver } = setup();
    await deliver({ hello: 'world' }, { sessionId: 'b-1', messageId: 'm-poison' });
    await deliver({ hello: 'world' }, { sessionId: 'b-1', messageId: 'm-poison', deliveryCount: 2 });
    assert.equal(quarantine.size, 1);
  });

  it('blocks the order when the event at a sequence it waits for fails its schema', async () => {
    const { orders, quarantine, deliver, logs } = setup();
    const events = paidBasket('b-1');
    for (const event of events.slice(0, 3)) await deliver(event);
    await deliver(rawEvent('b-1', 4, 'PaymentMade', { amount: 'twenty', currency: 'EUR' }));
    const record = orders.peek('b-1');
    assert.equal(record?.status, 'Blocked');
    assert.match(
      record.blockedReason ?? '',
      /^Sequence 4 is invalid: The event does not match its schema: .*data\.amount/,
    );
    assert.deepEqual(
      record.rejected.map((entry) => [entry.sequence, entry.type, entry.eventId]),
      [[4, 'PaymentMade', 'b-1:4']],
    );
    assert.equal(quarantine.size, 0);
    assert.match(logs.at(-1)?.line ?? '', /outcome=blocked basket=b-1 sequence=4 /);
  });

  it('blocks the order on a rule violation and rejects what follows, without throwing', async () => {
    const { orders, fulfillment, deliver, logs } = setup();
    const events = paidBasket('b-1');
    for (const event of events.slice(0, 3)) await deliver(event);
    await deliver(rawEvent('b-1', 4, 'PaymentMade', { amount: 1, currency: 'EUR' }));
    await deliver(rawEvent('b-1', 5, 'InventoryUpdated', { outcome: 'reserved' }));
    const record = orders.peek('b-1');
    assert.equal(record?.status, 'Blocked');
    assert.match(record.blockedReason ?? '', /does not equal the basket total of 20\.25 EUR/);
    assert.deepEqual(
      record.rejected.map((entry) => entry.sequence),
      [4, 5],
    );
    assert.equal(fulfillment.calls.length, 0);
    assert.match(logs.at(-1)?.line ?? '', /outcome=rejected basket=b-1 sequence=5 /);
  });

  it('blocks the order when parked events overflow the configured limit', async () => {
    const { orders, deliver } = setup(1);
    const events = paidBasket('b-1');
    await deliver(events[2]);
    await deliver(events[3]);
    const record = orders.peek('b-1');
    assert.equal(record?.status, 'Blocked');
    assert.match(record.blockedReason ?? '', /Too many events parked: 1 events already wait for sequence 1/);
  });

  it('blocks the order at a sequence whose message id is not its eventId (a producer bug duplicate detection cannot catch)', async () => {
    const { orders, deliver, logs } = setup();
    const [first, second] = paidBasket('b-1');
    await deliver(first);
    await deliver(second, { messageId: 'random-guid' });
    const record = orders.peek('b-1');
    assert.equal(record?.status, 'Blocked');
    assert.equal(record.lastAppliedSequence, 1);
    assert.match(
      record.blockedReason ?? '',
      /^Sequence 2 is invalid: The message id "random-guid" differs from the eventId "b-1:2"; the producer must set messageId = eventId/,
    );
    assert.deepEqual(
      record.rejected.map((entry) => [entry.sequence, entry.type, entry.eventId]),
      [[2, 'ItemAdded', 'b-1:2']],
    );
    assert.match(logs.at(-1)?.line ?? '', /outcome=blocked basket=b-1 sequence=2 /);
    // The corrected resend of that sequence cannot apply: the order stays blocked, nothing throws.
    await deliver(second);
    assert.equal(orders.peek('b-1')?.lastAppliedSequence, 1);
    assert.match(logs.at(-1)?.line ?? '', /outcome=duplicate basket=b-1 sequence=2 /);
  });

  it('blocks the order when a sequence is beyond the events a basket may have', async () => {
    const { orders, deliver } = setup();
    await deliver(rawEvent('b-1', 501, 'ItemAdded', { sku: 'SKU-1', quantity: 1, unitPrice: 1 }));
    const record = orders.peek('b-1');
    assert.equal(record?.status, 'Blocked');
    assert.match(record.blockedReason ?? '', /ItemAdded at sequence 501 is beyond the 500 events a basket may have/);
  });

  it('a record the store cannot hold blocks the order at that sequence instead of being retried', async () => {
    const { orders, deliver, logs } = setup();
    const [first, second] = paidBasket('b-1');
    await deliver(first);
    orders.failNext('replace', new RecordTooLargeError('Order b-1 serializes to 600000 characters.'));
    await deliver(second);
    const record = orders.peek('b-1');
    assert.equal(record?.status, 'Blocked');
    assert.equal(record.lastAppliedSequence, 1);
    assert.equal(
      record.blockedReason,
      'Sequence 2 is invalid: The order record could not be saved: Order b-1 serializes to 600000 characters.',
    );
    assert.deepEqual(
      record.rejected.map((entry) => entry.sequence),
      [2],
    );
    assert.match(logs.at(-1)?.line ?? '', /outcome=blocked basket=b-1 sequence=2 /);
  });

  it('the same holds for the first record of a basket', async () => {
    const { orders, deliver } = setup();
    orders.failNext('create', new RecordTooLargeError('too large'));
    await deliver(paidBasket('b-1')[0]);
    assert.equal(orders.peek('b-1')?.status, 'Blocked');
    assert.equal(orders.peek('b-1')?.lastAppliedSequence, 0);
  });

  it('quarantines the message, and completes, when the stored record cannot be read', async () => {
    const { orders, quarantine, deliver, logs } = setup();
    await deliver(paidBasket('b-1')[0]);
    orders.failNext('get', new UnreadableRecordError('Stored order b-1 cannot be read: status: Invalid option'));
    await deliver(paidBasket('b-1')[1]);
    const [message] = await quarantine.list(10);
    assert.equal(message?.messageId, 'b-1:2');
    assert.equal(message.reason, 'Stored order b-1 cannot be read: status: Invalid option');
    assert.match(message.body, /"sequence":2/);
    assert.equal(orders.peek('b-1')?.lastAppliedSequence, 1);
    assert.equal(logs.at(-1)?.level, 'error');
  });

  it('quarantines the message when not even the blocked record can be saved', async () => {
    const { orders, quarantine, deliver, logs } = setup();
    orders.failNext('create', new RecordTooLargeError('too large once'));
    orders.failNext('create', new RecordTooLargeError('too large twice'));
    await deliver(paidBasket('b-1')[0]);
    assert.equal(orders.peek('b-1'), undefined);
    const [message] = await quarantine.list(10);
    assert.equal(message?.messageId, 'b-1:1');
    assert.equal(message.reason, 'too large twice');
    assert.equal(logs.at(-1)?.level, 'error');
    assert.match(logs.at(-1)?.line ?? '', /outcome=quarantined basket=b-1 sequence=1 .*: too large twice$/);
  });
});

describe('processOrderEvent: parsing at the edge', () => {
  it('reads trigger metadata in every shape the host uses and never fails on missing facts', () => {
    const defined = (value: object) =>
      Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined));
    assert.deepEqual(
      defined(parseTriggerMetadata({ sessionId: 's', messageId: 'm', deliveryCount: '2', sequenceNumber: 7n })),
      {
        sessionId: 's',
        messageId: 'm',
        deliveryCount: 2,
        sequenceNumber: '7',
      },
    );
    assert.deepEqual(
      defined(
        parseTriggerMetadata({
          messageId: '',
          deliveryCount: { nonsense: true },
          enqueuedTimeUtc: new Date(0),
        }),
      ),
      {
        enqueuedTimeUtc: '1970-01-01T00:00:00.000Z',
      },
    );
    // The library JSON-parses the host's strings: SessionId "1001" and MessageId "7001" arrive as numbers.
    assert.deepEqual(defined(parseTriggerMetadata({ sessionId: 1001, messageId: 7001 })), {
      sessionId: '1001',
      parsedSessionId: 1001,
      messageId: '7001',
    });
    assert.deepEqual(defined(parseTriggerMetadata({ sessionId: true })), { sessionId: 'true', parsedSessionId: true });
    assert.deepEqual(defined(parseTriggerMetadata({ sessionId: null })), { sessionId: 'null', parsedSessionId: null });
    // What JSON.parse makes of ids it cannot keep: "1e309" → Infinity, "-1e309" → -Infinity, "-0" → -0.
    assert.deepEqual(defined(parseTriggerMetadata({ sessionId: Infinity, messageId: -Infinity })), {
      sessionId: 'Infinity',
      parsedSessionId: Infinity,
      messageId: '-Infinity',
    });
    assert.deepEqual(defined(parseTriggerMetadata({ sessionId: -0 })), { sessionId: '-0', parsedSessionId: -0 });
    // Session id text "[1]" or "{}" arrives as an array or object: kept as its JSON text, never dropped.
    assert.deepEqual(defined(parseTriggerMetadata({ sessionId: [1] })), { sessionId: '[1]' });
    assert.deepEqual(defined(parseTriggerMetadata({ sessionId: {} })), { sessionId: '{}' });
    assert.deepEqual(defined(parseTriggerMetadata(undefined)), {});
    assert.deepEqual(defined(parseTriggerMetadata('not an object')), {});
  });

  it('processes a basket whose id looks like a number, though the library hands its session id over as one', async () => {
    const { orders, quarantine, deliver } = setup();
    await deliver(paidBasket('1001')[0], { sessionId: 1001 });
    assert.equal(orders.peek('1001')?.lastAppliedSequence, 1);
    assert.equal(quarantine.size, 0);
  });

  it('quarantines a poison message with a numeric message id once across redeliveries', async () => {
    const { quarantine, deliver } = setup();
    await deliver({ hello: 'world' }, { sessionId: 'b-1', messageId: 7001 });
    await deliver({ hello: 'world' }, { sessionId: 'b-1', messageId: 7001, deliveryCount: 2 });
    assert.equal(quarantine.size, 1);
    assert.equal((await quarantine.list(1))[0]?.messageId, '7001');
  });

  it('decodes bodies: parsed JSON as is, JSON text and bytes parsed, other text kept as text', () => {
    assert.deepEqual(decodeBody({ a: 1 }), { value: { a: 1 }, text: '{"a":1}' });
    assert.deepEqual(decodeBody('{"a":1}'), { value: { a: 1 }, text: '{"a":1}' });
    assert.deepEqual(decodeBody(new TextEncoder().encode('[1]')), { value: [1], text: '[1]' });
    assert.deepEqual(decodeBody('hello'), { value: 'hello', text: 'hello' });
    assert.deepEqual(decodeBody(undefined), { value: undefined, text: 'undefined' });
  });
});
