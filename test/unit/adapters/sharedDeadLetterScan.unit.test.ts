import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SharedDeadLetterScan } from '../../../src/adapters/serviceBusDeadLetters';
import { InMemoryDeadLetterQueue } from '../../support/fakes';

/** The order views' shared scan: one whole-queue peek per window, filtered per basket; failures not kept. */

function counted(queue: InMemoryDeadLetterQueue) {
  const calls: (string | undefined)[] = [];
  const peek = queue.peek.bind(queue);
  queue.peek = (sessionId, maxScanned) => {
    calls.push(sessionId);
    return peek(sessionId, maxScanned);
  };
  return calls;
}

const letter = (sessionId: string, serviceSequenceNumber: string) => ({
  serviceSequenceNumber,
  messageId: `${sessionId}:${serviceSequenceNumber}`,
  sessionId,
  deliveryCount: 10,
});

describe('SharedDeadLetterScan', () => {
  it('answers every view of the same window from one scan, each with its own basket only', async () => {
    const queue = new InMemoryDeadLetterQueue();
    queue.add(letter('b-1', '1'), {});
    queue.add(letter('b-2', '2'), {});
    const calls = counted(queue);
    let now = 0;
    const shared = new SharedDeadLetterScan(queue, 1_000, () => now);

    const [one, two] = await Promise.all([shared.peek('b-1', 100), shared.peek('b-2', 100)]);
    assert.deepEqual(
      one.messages.map((m) => m.messageId),
      ['b-1:1'],
    );
    assert.deepEqual(
      two.messages.map((m) => m.messageId),
      ['b-2:2'],
    );
    assert.deepEqual(calls, [undefined], 'one whole-queue scan');

    queue.add(letter('b-1', '3'), {});
    now = 999;
    assert.equal((await shared.peek('b-1', 100)).messages.length, 1, 'still the same window');
    now = 1_000;
    assert.equal((await shared.peek('b-1', 100)).messages.length, 2, 'a new window scans again');
    assert.equal(calls.length, 2);
  });

  it('does not keep a failed scan: the next view asks the queue again', async () => {
    const queue = new InMemoryDeadLetterQueue();
    queue.add(letter('b-1', '1'), {});
    const shared = new SharedDeadLetterScan(queue, 60_000, () => 0);
    queue.failNext('peek', new Error('amqp:connection:forced'));
    await assert.rejects(shared.peek('b-1', 100), /amqp:connection:forced/);
    assert.equal((await shared.peek('b-1', 100)).messages.length, 1);
  });
});
