import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { errorCode, single, startHarness, type Harness } from './helpers';

/**
 * Delivery counts and dead-letter rules where the Azure SDKs' own live tests pin Service Bus
 * (azure-sdk-for-js test/public/deferredMessage.spec.ts, test/internal/batchReceiver.spec.ts and
 * streamingReceiver.spec.ts). The JS SDK shows the AMQP header's delivery-count as is (0 on a first
 * receive); .NET shows it + 1 (dotnet/MessagingTests.cs covers the same rules there).
 */
describe('emulator delivery counts of deferred and dead-lettered messages (JS SDK)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  async function receiveOne(from: ServiceBusReceiver): Promise<ServiceBusReceivedMessage> {
    return single(await from.receiveMessages(1, { maxWaitTimeInMs: 2000 }));
  }

  async function sendAndReceive(
    queue: string,
    receiver: ServiceBusReceiver,
    sessionId?: string,
  ): Promise<ServiceBusReceivedMessage> {
    const messageId = `m-${String(Math.random()).slice(2)}`;
    await h.client.createSender(queue).sendMessages({ body: messageId, messageId, sessionId });
    const first = await receiveOne(receiver);
    assert.equal(first.messageId, messageId);
    assert.equal(first.deliveryCount, 0, 'a first receive has no delivery counted');
    return first;
  }

  it('counts a deferral: received once and deferred, the receive by sequence number shows 1', async () => {
    const receiver = h.client.createReceiver('plain');
    const first = await sendAndReceive('plain', receiver);
    const seq = first.sequenceNumber!;
    await receiver.deferMessage(first);
    const peeked = single(await receiver.peekMessages(1, { fromSequenceNumber: seq }));
    assert.equal(peeked.deliveryCount, 1, 'the deferral is counted before the message is fetched again');

    const deferred = single(await receiver.receiveDeferredMessages(seq));
    assert.equal(deferred.deliveryCount, 1);
    await receiver.abandonMessage(deferred);
    const afterAbandon = single(await receiver.receiveDeferredMessages(seq));
    assert.equal(afterAbandon.deliveryCount, 2, 'abandoning the deferred message counts and keeps it deferred');
    await receiver.deferMessage(afterAbandon);
    const afterDefer = single(await receiver.receiveDeferredMessages(seq));
    assert.equal(afterDefer.deliveryCount, 3, 'deferring it again counts too');
    await receiver.completeMessage(afterDefer);
    await receiver.close();
  });

  it('counts a deferral in a session the same way', async () => {
    const session = await h.client.acceptSession('orders', 'defer-session');
    const first = await sendAndReceive('orders', session, 'defer-session');
    await session.deferMessage(first);
    const deferred = single(await session.receiveDeferredMessages(first.sequenceNumber!));
    assert.equal(deferred.deliveryCount, 1);
    await session.completeMessage(deferred);
    await session.close();
  });

  it('gives the dead-letter copy the delivery count of the message it copies', async () => {
    const receiver = h.client.createReceiver('plain');
    const deadLetters = h.client.createReceiver('plain', { subQueueType: 'deadLetter' });

    const once = await sendAndReceive('plain', receiver);
    await receiver.deadLetterMessage(once);
    const onceCopy = await receiveOne(deadLetters);
    assert.equal(onceCopy.messageId, once.messageId);
    assert.equal(onceCopy.deliveryCount, 0, 'received once, then dead-lettered: nothing counted');
    await deadLetters.completeMessage(onceCopy);

    const first = await sendAndReceive('plain', receiver);
    await receiver.deferMessage(first);
    const deferred = single(await receiver.receiveDeferredMessages(first.sequenceNumber!));
    await receiver.deadLetterMessage(deferred);
    const deferredCopy = await receiveOne(deadLetters);
    assert.equal(deferredCopy.messageId, first.messageId);
    assert.equal(deferredCopy.deliveryCount, 1, 'deferred once, then dead-lettered: the deferral counted');
    await deadLetters.completeMessage(deferredCopy);

    let exhausted = await sendAndReceive('plain', receiver);
    for (let attempt = 1; attempt < 3; attempt++) {
      await receiver.abandonMessage(exhausted);
      exhausted = await receiveOne(receiver);
    }
    await receiver.abandonMessage(exhausted);
    const exhaustedCopy = await receiveOne(deadLetters);
    assert.equal(exhaustedCopy.deadLetterReason, 'MaxDeliveryCountExceeded');
    assert.equal(exhaustedCopy.deliveryCount, 3, 'the copy shows MaxDeliveryCount (3 on this queue)');
    await deadLetters.completeMessage(exhaustedCopy);
    await receiver.close();
    await deadLetters.close();
  });

  it('counts no deliveries in a dead-letter queue: abandoned or deferred there, the copy keeps its count', async () => {
    const receiver = h.client.createReceiver('plain');
    const deadLetters = h.client.createReceiver('plain', { subQueueType: 'deadLetter' });
    const first = await sendAndReceive('plain', receiver);
    await receiver.abandonMessage(first);
    await receiver.deadLetterMessage(await receiveOne(receiver));

    const copy = await receiveOne(deadLetters);
    assert.equal(copy.deliveryCount, 1, 'the abandon on the queue counted');
    await deadLetters.abandonMessage(copy);
    const abandoned = await receiveOne(deadLetters);
    assert.equal(abandoned.deliveryCount, 1, 'the abandon in the dead-letter queue did not');
    await deadLetters.deferMessage(abandoned);
    const deferred = single(await deadLetters.receiveDeferredMessages(abandoned.sequenceNumber!));
    assert.equal(deferred.deliveryCount, 1, 'nor the deferral');
    await deadLetters.completeMessage(deferred);
    await receiver.close();
    await deadLetters.close();
  });

  it('refuses to dead-letter a message received from the dead-letter queue and gives it back uncounted', async () => {
    const receiver = h.client.createReceiver('plain');
    const deadLetters = h.client.createReceiver('plain', { subQueueType: 'deadLetter' });
    await receiver.deadLetterMessage(await sendAndReceive('plain', receiver));

    const dead = await receiveOne(deadLetters);
    const refusal = (e: unknown): boolean =>
      // amqp:not-allowed: core-amqp names it InvalidOperationError, the JS SDK reports GeneralError.
      errorCode(e) === 'GeneralError' && e instanceof Error && e.message.startsWith('InvalidOperationError:');
    await assert.rejects(deadLetters.deadLetterMessage(dead), refusal);
    const again = await receiveOne(deadLetters);
    assert.equal(again.messageId, dead.messageId);
    assert.equal(again.deliveryCount, 0, 'the refused settlement is not a counted delivery');

    // The same refusal on the management link, for a message fetched by sequence number.
    await deadLetters.deferMessage(again);
    const deferred = single(await deadLetters.receiveDeferredMessages(again.sequenceNumber!));
    await assert.rejects(deadLetters.deadLetterMessage(deferred), refusal);
    const stillDeferred = single(await deadLetters.receiveDeferredMessages(again.sequenceNumber!));
    await deadLetters.completeMessage(stillDeferred);
    assert.deepEqual(await deadLetters.peekMessages(10), [], 'completed: the dead-letter queue is empty');
    await receiver.close();
    await deadLetters.close();
  });
});
