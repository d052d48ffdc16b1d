import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isServiceBusError, ServiceBusClient } from '@azure/service-bus';
import type * as rhea from 'rhea';
import { startEmulator, type RunningEmulator } from '@convoy/servicebus-emulator';
import { EmulatorConnection, emulatorEndpointOf } from '../../src/host/serviceBus/amqp/connection';
import { EmulatorSessionReceiver } from '../../src/host/serviceBus/amqp/sessionReceiver';
import { triggerInput, triggerMetadata } from '../../src/host/serviceBus/metadata';

/**
 * The local host receives sessions on the emulator straight on rhea (amqp/sessionReceiver.ts). The
 * function must see what it saw through the SDK, and the wire behaviour must be the extension's.
 */

const queue = 'order-events';
const acceptOptions = { timeoutMs: 3_000, maxAutoLockRenewalDurationMs: 60_000 };

function codeOf(error: unknown): string {
  return isServiceBusError(error) ? error.code : String(error);
}

/** Records each frame the host writes on `amqp` as [channel, performative] (rhea 3.0.5's _write_frame). */
function recordFrames(amqp: rhea.Connection): { frames: [number, string][]; stop(): void } {
  type WriteFrame = (channel?: number, frame?: object, payload?: unknown) => void;
  const internals = amqp as unknown as { _write_frame: WriteFrame };
  const write = internals._write_frame;
  const frames: [number, string][] = [];
  internals._write_frame = function (this: unknown, channel, frame, payload) {
    // A performative's constructor prints as "detach#16"; a heartbeat has no frame.
    if (channel !== undefined && frame !== undefined)
      frames.push([channel, String(frame.constructor).split('#')[0] ?? '']);
    write.call(this, channel, frame, payload);
  };
  return {
    frames,
    stop: () => {
      internals._write_frame = write;
    },
  };
}

/** Frames written on a channel after its end and before a new begin there: AMQP forbids them. */
function framesAfterEnd(frames: readonly [number, string][]): string[] {
  const ended = new Set<number>();
  const late: string[] = [];
  for (const [channel, performative] of frames) {
    if (performative === 'begin') ended.delete(channel);
    else if (ended.has(channel)) late.push(`${performative} on channel ${String(channel)}`);
    if (performative === 'end') ended.add(channel);
  }
  return late;
}

describe('EmulatorSessionReceiver on the emulator', { timeout: 60_000 }, () => {
  let emulator: RunningEmulator;
  let client: ServiceBusClient;
  let connection: EmulatorConnection;
  before(async () => {
    emulator = await startEmulator({ port: 0 });
    client = new ServiceBusClient(emulator.connectionString);
    const endpoint = emulatorEndpointOf(emulator.connectionString);
    assert.ok(endpoint, 'the emulator connection string is recognised');
    connection = new EmulatorConnection(endpoint, 10_000);
  });
  after(async () => {
    await connection.close();
    await client.close();
    await emulator.close();
  });

  /**
   * The receiver of `sessionId` handles its one message, then waits in vain: that wait's credit is
   * still out. The host's reads are held while the session's next message is sent, so its transfer
   * is on its way, unread, when close() runs; they resume `holdMs` later (0: on the next turn).
   */
  async function closeWithTransferOnItsWay(sessionId: string, socket: Socket, holdMs: number): Promise<void> {
    const sender = client.createSender(queue);
    await sender.sendMessages({ sessionId, messageId: `${sessionId}:1`, body: 'one' });
    const receiver = await EmulatorSessionReceiver.acceptNext(connection, queue, acceptOptions);
    const [one] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
    assert.ok(one);
    await receiver.completeMessage(one);
    assert.deepEqual(await receiver.receiveMessages(1, { maxWaitTimeInMs: 50 }), []);
    socket.pause();
    await sender.sendMessages({ sessionId, messageId: `${sessionId}:2`, body: 'two' });
    const closed = receiver.close();
    await (holdMs > 0 ? sleep(holdMs) : new Promise(setImmediate));
    socket.resume();
    await closed;
  }

  /** The message that met the close is still there and its next delivery is its first (SDK count 0). */
  async function assertComesBackUncounted(messageId: string, why: string): Promise<void> {
    const viaSdk = await client.acceptSession(queue, messageId.slice(0, messageId.lastIndexOf(':')));
    const [message] = await viaSdk.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
    assert.equal(message?.messageId, messageId, 'the message that met the close is still there');
    assert.equal(message.deliveryCount, 0, why);
    await viaSdk.completeMessage(message);
    await viaSdk.close();
  }

  it('gives the function the same trigger data as the SDK for the same message', async () => {
    const sent = new Date('2026-01-02T03:04:05.678Z');
    await client.createSender(queue).sendMessages({
      sessionId: 'meta-1',
      messageId: 'meta-1:1',
      correlationId: 'corr-7',
      subject: 'ItemAdded',
      contentType: 'application/json',
      to: 'somewhere',
      replyTo: 'reply-queue',
      replyToSessionId: 'reply-session',
      timeToLive: 3_600_000,
      applicationProperties: { attempt: 3, source: 'test', urgent: true, sentAt: sent },
      body: { basketId: 'meta-1', sequence: 1, sku: 'A-1' },
    });
    const viaSdk = await client.acceptSession(queue, 'meta-1', {
      skipParsingBodyAsJson: true,
      skipConvertingDate: true,
    });
    const [first] = await viaSdk.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
    assert.ok(first);
    const sdkMetadata = triggerMetadata(first, 'fn');
    const sdkInput = triggerInput(first, undefined);
    await viaSdk.abandonMessage(first);
    await viaSdk.close();

    const viaRhea = await EmulatorSessionReceiver.acceptNext(connection, queue, acceptOptions);
    assert.equal(viaRhea.sessionId, 'meta-1');
    const [again] = await viaRhea.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
    assert.ok(again);
    const rheaMetadata = triggerMetadata(again, 'fn');
    assert.deepEqual(triggerInput(again, undefined), sdkInput);
    // Abandoned once: one more delivery. The lock token and the sys block are per delivery.
    assert.deepEqual(rheaMetadata.DeliveryCount, { json: '2' });
    assert.deepEqual(sdkMetadata.DeliveryCount, { json: '1' });
    const comparable = (m: Record<string, unknown>): Record<string, unknown> => {
      const { DeliveryCount: _count, LockToken: _token, sys: _sys, ...rest } = m;
      return rest;
    };
    assert.deepEqual(comparable(rheaMetadata), comparable(sdkMetadata));
    assert.match(JSON.stringify(rheaMetadata.LockToken), /[0-9a-f]{8}-[0-9a-f]{4}-/);
    await viaRhea.completeMessage(again);
    await viaRhea.close();
  });

  it('after an idle wait, a late message is released (not a delivery attempt) and the session unlocked on close', async () => {
    const sender = client.createSender(queue);
    await sender.sendMessages({ sessionId: 'late-1', messageId: 'late-1:1', body: 'one' });
    const receiver = await EmulatorSessionReceiver.acceptNext(connection, queue, acceptOptions);
    assert.equal(receiver.sessionId, 'late-1');
    const [one] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
    assert.ok(one);
    await receiver.completeMessage(one);
    assert.deepEqual(await receiver.receiveMessages(1, { maxWaitTimeInMs: 200 }), []);
    // The credit of the timed-out wait is still out, as with the .NET client at prefetch 0.
    await sender.sendMessages({ sessionId: 'late-1', messageId: 'late-1:2', body: 'two' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await receiver.close();
    await assert.rejects(
      receiver.receiveMessages(1, { maxWaitTimeInMs: 100 }),
      (error) => codeOf(error) === 'SessionLockLost',
    );

    const viaSdk = await client.acceptSession(queue, 'late-1');
    const [two] = await viaSdk.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
    assert.equal(two?.messageId, 'late-1:2');
    assert.equal(two.deliveryCount, 0, 'a released delivery does not count');
    await viaSdk.completeMessage(two);
    await viaSdk.close();
  });

  it('a batch receive (prefetch) hands over what arrived without waiting out its timeout', async () => {
    await client.createSender(queue).sendMessages([
      { sessionId: 'batch-1', messageId: 'batch-1:1', body: 'a' },
      { sessionId: 'batch-1', messageId: 'batch-1:2', body: 'b' },
    ]);
    const receiver = await EmulatorSessionReceiver.acceptNext(connection, queue, acceptOptions);
    const started = Date.now();
    const batch = await receiver.receiveMessages(10, { maxWaitTimeInMs: 20_000 });
    assert.ok(Date.now() - started < 5_000, `took ${String(Date.now() - started)} ms`);
    // Both, or the first if the second came in a later read: the rest follows in order.
    while (batch.length < 2) batch.push(...(await receiver.receiveMessages(10, { maxWaitTimeInMs: 5_000 })));
    assert.deepEqual(
      batch.map((m) => m.messageId),
      ['batch-1:1', 'batch-1:2'],
    );
    for (const message of batch) await receiver.completeMessage(message);
    await receiver.close();
  });

  it('settles a complete and an abandon asked for in the same turn each with its own outcome', async () => {
    await client.createSender(queue).sendMessages([
      { sessionId: 'turn-1', messageId: 'turn-1:1', body: 'complete me' },
      { sessionId: 'turn-1', messageId: 'turn-1:2', body: 'abandon me' },
    ]);
    const receiver = await EmulatorSessionReceiver.acceptNext(connection, queue, acceptOptions);
    const batch = await receiver.receiveMessages(2, { maxWaitTimeInMs: 5_000 });
    while (batch.length < 2) batch.push(...(await receiver.receiveMessages(2, { maxWaitTimeInMs: 5_000 })));
    const [first, second] = batch;
    assert.ok(first && second);
    // Two calls of one session finishing together (maxConcurrentCallsPerSession > 1).
    await Promise.all([receiver.completeMessage(first), receiver.abandonMessage(second)]);
    await receiver.close();

    const viaSdk = await client.acceptSession(queue, 'turn-1');
    const left = await viaSdk.receiveMessages(2, { maxWaitTimeInMs: 2_000 });
    assert.deepEqual(
      left.map((m) => [m.messageId, m.deliveryCount]),
      [['turn-1:2', 1]],
      'the completed message is gone, the abandoned one back with one delivery counted',
    );
    await viaSdk.completeMessage(left[0]!);
    await viaSdk.close();
  });

  it('maps the broker: no free session → ServiceTimeout, a missing queue → MessagingEntityNotFound, a late complete → lock lost', async () => {
    await assert.rejects(
      EmulatorSessionReceiver.acceptNext(connection, queue, { ...acceptOptions, timeoutMs: 300 }),
      (error) => codeOf(error) === 'ServiceTimeout',
    );
    await assert.rejects(
      EmulatorSessionReceiver.acceptNext(connection, 'no-such-queue', acceptOptions),
      (error) => codeOf(error) === 'MessagingEntityNotFound',
    );
    await client.createSender(queue).sendMessages({ sessionId: 'gone-1', messageId: 'gone-1:1', body: 'x' });
    const receiver = await EmulatorSessionReceiver.acceptNext(connection, queue, acceptOptions);
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
    assert.ok(message);
    await receiver.close();
    await assert.rejects(receiver.completeMessage(message), (error) => codeOf(error) === 'SessionLockLost');
    const again = await EmulatorSessionReceiver.acceptNext(connection, queue, acceptOptions);
    const [redelivered] = await again.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
    assert.equal(redelivered?.messageId, 'gone-1:1');
    await again.completeMessage(redelivered);
    await again.close();
  });

  it('writes nothing on a session after its end: a refused accept, a close with a message on its way', async () => {
    const amqp = await connection.connectionFor(queue);
    const socket = (amqp as unknown as { socket: Socket }).socket;
    const recorder = recordFrames(amqp);
    try {
      // The broker refuses with attach + detach; the answering detach must precede the end.
      await assert.rejects(
        EmulatorSessionReceiver.acceptNext(connection, queue, { ...acceptOptions, timeoutMs: 300 }),
        (error) => codeOf(error) === 'ServiceTimeout',
      );
      await closeWithTransferOnItsWay('end-1', socket, 0);
      await sleep(300);
      assert.deepEqual(framesAfterEnd(recorder.frames), []);
      assert.ok(
        recorder.frames.some(([, performative]) => performative === 'end'),
        'the recorder saw the sessions end',
      );
    } finally {
      recorder.stop();
    }
    await assertComesBackUncounted('end-1:2', 'released by the drain before the detach: not a delivery attempt');
  });

  it('a close whose drain answer is read late (a starved host) still releases the message on its way', async () => {
    const amqp = await connection.connectionFor(queue);
    const socket = (amqp as unknown as { socket: Socket }).socket;
    // The transfer and the drain's answer sit unread for seconds, as when the host's process gets no
    // CPU while a session idle-closes: a timer that gives up on the answer must not end the session.
    await closeWithTransferOnItsWay('starved-1', socket, 3_000);
    await assertComesBackUncounted('starved-1:2', 'the function never saw it: the broker must not count a delivery');
  });
});

/** How many times the host began a session on each channel it used. */
function beginsPerChannel(frames: readonly [number, string][]): Map<number, number> {
  const begins = new Map<number, number>();
  for (const [channel, performative] of frames)
    if (performative === 'begin') begins.set(channel, (begins.get(channel) ?? 0) + 1);
  return begins;
}

describe('EmulatorSessionReceiver when its reads stall past the accept wait', { timeout: 60_000 }, () => {
  /**
   * A host stopped (SIGSTOP, or starved) while its accepts wait: on resuming, its timers fire before
   * it reads the broker's begin and attach answers. The accepts that gave up must not open their
   * sessions again when those answers arrive: the broker would answer a second begin on a channel
   * the host has dropped, and rhea would end the connection with every session on it (issue 15).
   */
  it('accepts that gave up before their answers were read begin once, and the connection lives on', async () => {
    const emulator = await startEmulator({ port: 0 });
    const endpoint = emulatorEndpointOf(emulator.connectionString);
    assert.ok(endpoint);
    const connection = new EmulatorConnection(endpoint, 10_000);
    const sender = new ServiceBusClient(emulator.connectionString);
    try {
      const amqp = await connection.connectionFor(queue);
      const socket = (amqp as unknown as { socket: Socket }).socket;
      const recorder = recordFrames(amqp);
      socket.pause();
      const accepts = [1, 2, 3].map(() =>
        EmulatorSessionReceiver.acceptNext(connection, queue, { ...acceptOptions, timeoutMs: 100 }).then(
          () => 'accepted',
          (error: unknown) => codeOf(error),
        ),
      );
      // Past each accept's own give-up (timeoutMs + 2 s) before anything is read.
      await sleep(2_600);
      socket.resume();
      assert.deepEqual(await Promise.all(accepts), ['ServiceTimeout', 'ServiceTimeout', 'ServiceTimeout']);
      await sleep(500);
      recorder.stop();
      assert.deepEqual([...beginsPerChannel(recorder.frames).values()], [1, 1, 1], 'each session begun once');
      assert.deepEqual(framesAfterEnd(recorder.frames), []);
      assert.deepEqual(emulator.protocolErrors(), []);
      await sender.createSender(queue).sendMessages({ sessionId: 'stalled-1', messageId: 'stalled-1:1', body: 'x' });
      assert.equal(await connection.connectionFor(queue), amqp, 'the same connection serves the next accept');
      const receiver = await EmulatorSessionReceiver.acceptNext(connection, queue, acceptOptions);
      const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
      assert.equal(message?.messageId, 'stalled-1:1');
      await receiver.completeMessage(message);
      await receiver.close();
    } finally {
      await connection.close();
      await sender.close();
      await emulator.close();
    }
  });
});
