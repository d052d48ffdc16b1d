import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it, type TestContext } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import { startEmulator } from '@convoy/servicebus-emulator';
import { EmulatorConnection, emulatorEndpointOf } from '../../src/host/serviceBus/amqp/connection';
import { EmulatorSessionReceiver, type SessionReceiverLike } from '../../src/host/serviceBus/amqp/sessionReceiver';
import { emptyServiceBusStats } from '../../src/host/serviceBus/dispatch';
import { SessionPump } from '../../src/host/serviceBus/sessionPump';

/**
 * The host's stop order (Ctrl-C of npm start): receivers stop taking messages, the calls in flight
 * finish and settle, and only then does any receiver close — a session closing while another one
 * still settles is what raced on the wire and failed those settlements. Real emulator, real rhea
 * receivers; the test only records the order of their calls.
 */

const queue = 'order-events';
const fast = ['stop-fast-1', 'stop-fast-2', 'stop-fast-3'];
const slow = ['stop-slow-1', 'stop-slow-2', 'stop-slow-3'];

function recording(receiver: SessionReceiverLike, record: string[]): SessionReceiverLike {
  return {
    sessionId: receiver.sessionId,
    receiveMessages: (count, options) => receiver.receiveMessages(count, options),
    abandonMessage: (message) => receiver.abandonMessage(message),
    async completeMessage(message) {
      await receiver.completeMessage(message);
      record.push(`complete ${receiver.sessionId}`);
    },
    close() {
      record.push(`close ${receiver.sessionId}`);
      return receiver.close();
    },
  };
}

/** The emulator, an SDK client to send with, and the rhea connection the host's receivers use. */
async function emulatorWithRhea(t: TestContext) {
  const emulator = await startEmulator({ port: 0 });
  t.after(() => emulator.close());
  const client = new ServiceBusClient(emulator.connectionString);
  t.after(() => client.close());
  const connection = new EmulatorConnection(emulatorEndpointOf(emulator.connectionString) ?? assert.fail(), 10_000);
  t.after(() => connection.close());
  return { emulator, client, connection };
}

describe('SessionPump.stop', { timeout: 60_000 }, () => {
  it('settles every call in flight before closing any receiver', async (t) => {
    const { emulator, client, connection } = await emulatorWithRhea(t);
    const sessions = [...fast, ...slow];
    await client
      .createSender(queue)
      .sendMessages(sessions.map((sessionId) => ({ sessionId, messageId: `${sessionId}:1`, body: 'x' })));
    const record: string[] = [];
    const log: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const started = new Set<string>();
    const stats = emptyServiceBusStats();
    const pump = new SessionPump({
      client,
      target: { functionName: 'fn', entity: queue, queueName: queue, autoComplete: true, dataType: undefined },
      options: {
        prefetchCount: 0,
        autoCompleteMessages: true,
        maxAutoLockRenewalDurationMs: 60_000,
        maxConcurrentCalls: 1,
        maxConcurrentSessions: sessions.length,
        maxConcurrentCallsPerSession: 1,
        // Long: the fast sessions are still waiting for a next message when the host stops.
        sessionIdleTimeoutMs: 30_000,
        retry: { mode: 'exponential', tryTimeoutMs: 10_000, delayMs: 100, maxDelayMs: 1_000, maxRetries: 1 },
      },
      dispatch: async (_fn, _trigger, _metadata, facts) => {
        started.add(facts.sessionId ?? '');
        if (slow.includes(facts.sessionId ?? '')) await gate;
      },
      stats,
      log: (line) => log.push(line),
      acceptSession: async () =>
        recording(
          await EmulatorSessionReceiver.acceptNext(connection, queue, {
            timeoutMs: 2_000,
            maxAutoLockRenewalDurationMs: 60_000,
          }),
          record,
        ),
    });
    pump.start();
    while (started.size < sessions.length || record.length < fast.length) await sleep(20);

    const stopped = pump.stop();
    await sleep(300); // the stop is under way while the slow calls still run
    release();
    await stopped;
    await pump.settled();

    assert.equal(stats.messagesCompleted, sessions.length, `every call settled: ${log.join(' | ')}`);
    const lastComplete = record.findLastIndex((entry) => entry.startsWith('complete'));
    const firstClose = record.findIndex((entry) => entry.startsWith('close'));
    assert.ok(firstClose > lastComplete, `a receiver closed before every call settled: ${record.join(', ')}`);
    assert.deepEqual(
      record.filter((entry) => entry.startsWith('close')).sort(),
      sessions.map((s) => `close ${s}`).sort(),
    );
    const left = emulator.stats().entities.find((e) => e.path === queue);
    assert.equal((left?.active ?? 0) + (left?.locked ?? 0), 0, 'nothing left to redeliver');
  });
});
