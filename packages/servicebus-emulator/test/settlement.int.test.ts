import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { entityStats, errorCode, eventually, single, startHarness, type Harness } from './helpers';

/** peekLock / receiveAndDelete semantics on a plain queue, with time driven by a manual clock. */
describe('emulator settlement, locks, expiry and scheduling', () => {
  let h: Harness;
  let receiver: ServiceBusReceiver;
  before(async () => {
    h = await startHarness({ manualClock: true });
    receiver = h.client.createReceiver('plain', { maxAutoLockRenewalDurationInMs: 0 });
  });
  after(async () => {
    await h.close();
  });
  const advance = (ms: number) => {
    h.clock!.advance(ms);
  };

  async function receiveOne(from: ServiceBusReceiver = receiver): Promise<ServiceBusReceivedMessage> {
    const [message] = await from.receiveMessages(1, { maxWaitTimeInMs: 1000 });
    assert.ok(message !== undefined, 'expected a message');
    return message;
  }

  async function drained(from: ServiceBusReceiver = receiver): Promise<void> {
    const rest = await from.receiveMessages(10, { maxWaitTimeInMs: 100 });
    assert.deepEqual(
      rest.map((m): unknown => m.body),
      [],
    );
  }

  it('round-trips message properties and completes', async () => {
    await h.client.createSender('plain').sendMessages({
      body: { sku: 'A-1', qty: 2 },
      messageId: 'props-1',
      correlationId: 'corr-1',
      subject: 'ItemAdded',
      contentType: 'application/json',
      applicationProperties: { eventType: 'ItemAdded', version: 3, flag: true },
      timeToLive: 60_000,
    });
    const m = await receiveOne();
    assert.deepEqual(m.body, { sku: 'A-1', qty: 2 });
    assert.equal(m.messageId, 'props-1');
    assert.equal(m.correlationId, 'corr-1');
    assert.equal(m.subject, 'ItemAdded');
    assert.equal(m.contentType, 'application/json');
    assert.deepEqual(m.applicationProperties, { eventType: 'ItemAdded', version: 3, flag: true });
    assert.equal(m.timeToLive, 60_000);
    assert.equal(m.deliveryCount, 0);
    assert.equal(m.enqueuedTimeUtc?.getTime(), h.clock!.now());
    assert.equal(m.lockedUntilUtc?.getTime(), h.clock!.now() + 5000);
    await receiver.completeMessage(m);
    assert.equal(entityStats(h, 'plain').active + entityStats(h, 'plain').locked, 0);
    await drained();
  });

  it('abandon redelivers with delivery count + 1; dead-letter carries reason and description', async () => {
    await h.client.createSender('plain').sendMessages({ body: 'poison-ish', messageId: 'dl-1' });
    const first = await receiveOne();
    await receiver.abandonMessage(first);
    const second = await receiveOne();
    assert.equal(second.messageId, 'dl-1');
    assert.equal(second.deliveryCount, 1);
    await receiver.deadLetterMessage(second, {
      deadLetterReason: 'BadSku',
      deadLetterErrorDescription: 'sku X is unknown',
    });
    const dlq = h.client.createReceiver('plain', { subQueueType: 'deadLetter' });
    const dead = await receiveOne(dlq);
    assert.equal(dead.messageId, 'dl-1');
    assert.equal(dead.deadLetterReason, 'BadSku');
    assert.equal(dead.deadLetterErrorDescription, 'sku X is unknown');
    assert.equal(dead.deadLetterSource, 'plain');
    await dlq.completeMessage(dead);
    await dlq.close();
    await drained();
  });

  it('dead-letters after MaxDeliveryCount with MaxDeliveryCountExceeded', async () => {
    await h.client.createSender('plain').sendMessages({ body: 'always-fails', messageId: 'max-1' });
    for (let attempt = 0; attempt < 3; attempt++) {
      const m = await receiveOne();
      assert.equal(m.deliveryCount, attempt);
      await receiver.abandonMessage(m);
    }
    await drained();
    const dlq = h.client.createReceiver('plain', { subQueueType: 'deadLetter' });
    const dead = await receiveOne(dlq);
    assert.equal(dead.messageId, 'max-1');
    assert.equal(dead.deadLetterReason, 'MaxDeliveryCountExceeded');
    await dlq.completeMessage(dead);
    await dlq.close();
  });

  it('defers, receives deferred by sequence number and settles it', async () => {
    await h.client.createSender('plain').sendMessages({ body: 'later', messageId: 'defer-1' });
    const m = await receiveOne();
    const seq = m.sequenceNumber!;
    await receiver.deferMessage(m);
    await drained();
    const peeked = await receiver.peekMessages(10, { fromSequenceNumber: seq });
    assert.equal(peeked[0]?.state, 'deferred');
    const deferred = single(await receiver.receiveDeferredMessages(seq));
    assert.equal(deferred.messageId, 'defer-1');
    assert.equal(deferred.state, 'deferred');
    await receiver.completeMessage(deferred);
    await assert.rejects(receiver.receiveDeferredMessages(seq), (e: unknown) => errorCode(e) === 'MessageNotFound');
  });

  it('expires a lock: the message comes back with delivery count + 1 and the late settlement fails', async () => {
    await h.client.createSender('plain').sendMessages({ body: 'slow', messageId: 'lock-1' });
    const m = await receiveOne();
    advance(5001);
    await assert.rejects(receiver.completeMessage(m), (e: unknown) => errorCode(e) === 'MessageLockLost');
    const again = await receiveOne();
    assert.equal(again.messageId, 'lock-1');
    assert.equal(again.deliveryCount, 1);
    await receiver.completeMessage(again);
  });

  it('renews a message lock', async () => {
    await h.client.createSender('plain').sendMessages({ body: 'long work', messageId: 'renew-1' });
    const m = await receiveOne();
    advance(4000);
    const until = await receiver.renewMessageLock(m);
    assert.equal(until.getTime(), h.clock!.now() + 5000);
    advance(4000);
    await receiver.completeMessage(m);
    await drained();
  });

  it('receiveAndDelete removes on delivery', async () => {
    await h.client.createSender('plain').sendMessages({ body: 'fire-and-forget' });
    const rad = h.client.createReceiver('plain', { receiveMode: 'receiveAndDelete' });
    const m = await receiveOne(rad);
    assert.equal(m.body, 'fire-and-forget');
    assert.equal(m.lockToken, undefined);
    await rad.close();
    assert.equal(entityStats(h, 'plain').active + entityStats(h, 'plain').locked, 0);
  });

  it('dead-letters expired messages when DeadLetteringOnMessageExpiration is set, drops them otherwise', async () => {
    await h.client.createSender('plain').sendMessages({ body: 'stale', messageId: 'ttl-1', timeToLive: 1000 });
    await h.client.createSender('drop-expired').sendMessages({ body: 'stale', messageId: 'ttl-2' });
    advance(10_001);
    await drained();
    const dlq = h.client.createReceiver('plain', { subQueueType: 'deadLetter' });
    const dead = await receiveOne(dlq);
    assert.equal(dead.messageId, 'ttl-1');
    assert.equal(dead.deadLetterReason, 'TTLExpiredException');
    await dlq.completeMessage(dead);
    await dlq.close();
    const dropping = h.client.createReceiver('drop-expired');
    await drained(dropping);
    const dropDlq = h.client.createReceiver('drop-expired', { subQueueType: 'deadLetter' });
    await drained(dropDlq);
    await dropping.close();
    await dropDlq.close();
  });

  it('holds scheduled messages until their time and cancels on request', async () => {
    const sender = h.client.createSender('plain');
    const at = new Date(h.clock!.now() + 60_000);
    const [keep] = await sender.scheduleMessages({ body: 'scheduled', messageId: 'sched-1' }, at);
    const [drop] = await sender.scheduleMessages({ body: 'cancelled', messageId: 'sched-2' }, at);
    await sender.sendMessages({ body: 'via-property', messageId: 'sched-3', scheduledEnqueueTimeUtc: at });
    assert.equal(entityStats(h, 'plain').scheduled, 3);
    const peeked = await receiver.peekMessages(10, { fromSequenceNumber: keep! });
    assert.deepEqual(
      peeked.map((p): unknown[] => [p.messageId, p.state]),
      [
        ['sched-1', 'scheduled'],
        ['sched-2', 'scheduled'],
        ['sched-3', 'scheduled'],
      ],
    );
    await sender.cancelScheduledMessages(drop!);
    await drained();
    advance(60_000);
    const got = await receiver.receiveMessages(10, { maxWaitTimeInMs: 500 });
    assert.deepEqual(got.map((m) => m.messageId).sort(), ['sched-1', 'sched-3']);
    for (const m of got) {
      assert.equal(m.enqueuedTimeUtc?.getTime(), at.getTime());
      await receiver.completeMessage(m);
    }
    await drained();
  });

  it('peeks without locking', async () => {
    await h.client.createSender('plain').sendMessages([{ body: 'p1' }, { body: 'p2' }]);
    const peeker = h.client.createReceiver('plain');
    const peeked = await peeker.peekMessages(5);
    assert.deepEqual(
      peeked.map((m): unknown => m.body),
      ['p1', 'p2'],
    );
    assert.equal(entityStats(h, 'plain').locked, 0);
    const got = await receiver.receiveMessages(2, { maxWaitTimeInMs: 500 });
    assert.deepEqual(
      got.map((m): unknown => m.body),
      ['p1', 'p2'],
    );
    for (const m of got) await receiver.completeMessage(m);
    await peeker.close();
  });

  it('expires a session lock: the receiver is detached with SessionLockLost and the messages go to the next owner', async () => {
    await h.client.createSender('orders').sendMessages([
      { body: 'one', sessionId: 'expiring' },
      { body: 'two', sessionId: 'expiring' },
    ]);
    const errors: string[] = [];
    const owner = await h.client.acceptSession('orders', 'expiring', { maxAutoLockRenewalDurationInMs: 0 });
    const [m] = await owner.receiveMessages(1, { maxWaitTimeInMs: 500 });
    assert.equal(m?.body, 'one');
    advance(4000);
    const renewed = await owner.renewSessionLock();
    assert.equal(renewed.getTime(), h.clock!.now() + 5000);
    advance(4000);
    assert.equal(entityStats(h, 'orders').sessions.find((s) => s.id === 'expiring')?.owner !== undefined, true);
    advance(1001);
    await eventually(
      () => entityStats(h, 'orders').sessions.find((s) => s.id === 'expiring')?.owner === undefined,
      'session released',
    );
    await eventually(() => owner.isClosed, 'the SDK saw the session-lock-lost detach');
    await assert.rejects(owner.completeMessage(m), (e: unknown) => {
      errors.push(errorCode(e) ?? String(e));
      return true;
    });
    assert.ok(
      errors[0] === 'SessionLockLost' || errors[0] === 'MessageLockLost',
      `settlement failed with ${errors[0] ?? ''}`,
    );
    const next = await h.client.acceptSession('orders', 'expiring');
    const again = await next.receiveMessages(2, { maxWaitTimeInMs: 500 });
    assert.deepEqual(
      again.map((x): unknown[] => [x.body, x.deliveryCount]),
      [
        ['one', 1],
        ['two', 0],
      ],
    );
    for (const x of again) await next.completeMessage(x);
    await next.close();
    await owner.close();
  });
});
