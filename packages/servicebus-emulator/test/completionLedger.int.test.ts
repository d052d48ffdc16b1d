import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import { startEmulator } from '../src';

/**
 * The emulator's CompletionLedger (the local stack gives back what Azurite had not saved): completed
 * messages come back with their own sequence numbers, before the later messages of their session, and
 * a message locked at the give-back comes back once it is completed. Driven by the real SDK.
 */

const queue = 'order-events';

describe('CompletionLedger', { timeout: 60_000 }, () => {
  it('gives back completions after a time and the messages in flight, in sequence order', async (t) => {
    const emulator = await startEmulator({ port: 0, retainCompletions: true });
    t.after(() => emulator.close());
    const client = new ServiceBusClient(emulator.connectionString);
    t.after(() => client.close());
    const ledger = emulator.completions;
    assert.ok(ledger !== undefined);

    await client
      .createSender(queue)
      .sendMessages([1, 2, 3, 4].map((n) => ({ sessionId: 'gb-1', messageId: `gb-1:${String(n)}`, body: n })));
    const receiver = await client.acceptSession(queue, 'gb-1');
    const firstTwo = await receiver.receiveMessages(2, { maxWaitTimeInMs: 5_000 });
    for (const message of firstTwo) await receiver.completeMessage(message);
    assert.equal(ledger.size, 2);
    const [third] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
    assert.ok(third);

    assert.deepEqual(ledger.giveBackSince(0), { messages: 2, inFlight: 1 });
    await receiver.completeMessage(third); // given back instead of removed

    const again = await receiver.receiveMessages(4, { maxWaitTimeInMs: 5_000 });
    const more = again.length < 4 ? await receiver.receiveMessages(4 - again.length, { maxWaitTimeInMs: 5_000 }) : [];
    const all = [...again, ...more];
    assert.deepEqual(
      all.map((m) => m.messageId),
      ['gb-1:1', 'gb-1:2', 'gb-1:3', 'gb-1:4'],
    );
    assert.deepEqual(
      all.slice(0, 2).map((m) => m.sequenceNumber?.toNumber()),
      firstTwo.map((m) => m.sequenceNumber?.toNumber()),
      'their own sequence numbers',
    );
    for (const message of all) await receiver.completeMessage(message);
    await receiver.close();

    assert.equal(ledger.size, 4, 'completed again, kept again');
    ledger.forgetUpTo(Date.now());
    assert.equal(ledger.size, 0);
    assert.deepEqual(ledger.giveBackSince(0), { messages: 0, inFlight: 0 });
    const left = emulator.stats().entities.find((e) => e.path === queue);
    assert.equal((left?.active ?? 0) + (left?.locked ?? 0), 0);
  });
});
