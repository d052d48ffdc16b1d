import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import { startEmulator, type RunningEmulator } from '@convoy/servicebus-emulator';
import { startLocalHost, type InvocationEvent, type LocalHost } from '../../src';

const appRoot = join(__dirname, 'fixtures', 'app');

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function sessionQueue(name: string): { Name: string; Properties: Record<string, unknown> } {
  // A 1 s lock makes renewal (or its absence) visible within a test.
  return { Name: name, Properties: { RequiresSession: true, LockDuration: 'PT1S', MaxDeliveryCount: 10 } };
}

describe('session locks, renewal and shutdown on the local host', () => {
  let emulator: RunningEmulator;
  let client: ServiceBusClient;

  before(async () => {
    emulator = await startEmulator({
      config: {
        UserConfig: {
          Namespaces: [
            {
              Name: 'sbemulatorns',
              Queues: [
                sessionQueue('renewed'),
                sessionQueue('not-renewed'),
                sessionQueue('idle'),
                { Name: 'fixture-plain', Properties: {} },
              ],
              Topics: [],
            },
          ],
        },
      },
    });
    client = new ServiceBusClient(emulator.connectionString);
  });
  after(async () => {
    await client.close();
    await emulator.close();
  });

  async function hostFor(
    queue: string,
    serviceBus: Record<string, unknown>,
    lines: string[],
  ): Promise<{ host: LocalHost; events: InvocationEvent[] }> {
    const host = await startLocalHost({
      appRoot,
      port: 0,
      settings: { ServiceBusConnection: emulator.connectionString, FIXTURE_SESSION_QUEUE: queue },
      hostJson: { extensions: { serviceBus: { clientRetryOptions: { tryTimeout: '00:00:02' }, ...serviceBus } } },
      log: (line) => lines.push(line),
    });
    const events: InvocationEvent[] = [];
    host.onInvocation((event) => events.push(event));
    return { host, events };
  }

  it('renews the session lock while a call outlives it (maxAutoLockRenewalDuration)', async () => {
    const lines: string[] = [];
    const { host, events } = await hostFor(
      'renewed',
      { sessionIdleTimeout: '00:00:00.300', maxAutoLockRenewalDuration: '00:05:00' },
      lines,
    );
    try {
      await client
        .createSender('renewed')
        .sendMessages({ sessionId: 'long', messageId: 'long-1', body: { slowFirstDeliveryMs: 1_600 } });
      // The invocation event comes before the settlement: wait for the message to be settled too.
      const settled = (): number => {
        const sb = host.stats().serviceBus;
        return sb.messagesCompleted + sb.messagesAbandoned + sb.sessionsLockLost;
      };
      await until(() => events.length === 1 && settled() >= 1, 'the long call and its settlement');
      assert.equal(events[0]?.outcome, 'succeeded');
      assert.equal(host.stats().serviceBus.messagesCompleted, 1);
      assert.equal(host.stats().serviceBus.sessionsLockLost, 0, lines.join('\n'));
    } finally {
      await host.stop();
    }
  });

  it('without renewal the lock expires: another acceptor gets the message again, the late complete is refused and logged', async () => {
    const lines: string[] = [];
    const { host, events } = await hostFor(
      'not-renewed',
      { sessionIdleTimeout: '00:00:00.300', maxAutoLockRenewalDuration: '00:00:00' },
      lines,
    );
    try {
      await client
        .createSender('not-renewed')
        .sendMessages({ sessionId: 'long', messageId: 'long-1', body: { slowFirstDeliveryMs: 1_600 } });
      await until(
        () => events.length === 2 && host.stats().serviceBus.sessionsLockLost >= 1,
        'both deliveries and the lost lock',
      );
      // The second delivery (after the 1 s lock expired) finishes first; the first one's complete fails.
      assert.deepEqual(
        events.map((e) => e.deliveryCount),
        [2, 1],
      );
      assert.equal(host.stats().serviceBus.messagesCompleted, 1);
      assert.ok(
        lines.some((line) => /session long lock lost: could not complete message 1/.test(line)),
        lines.join('\n'),
      );
    } finally {
      await host.stop();
    }
  });

  it('an unset sessionIdleTimeout holds the session (60 s), and stop() still returns promptly', async () => {
    const lines: string[] = [];
    const { host, events } = await hostFor('idle', {}, lines);
    await client.createSender('idle').sendMessages({ sessionId: 'held', messageId: 'held-1', body: {} });
    await until(() => events.length === 1, 'the call');
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(host.stats().serviceBus.sessionsActive, 1, 'the session should still be held');
    const started = Date.now();
    await host.stop();
    assert.ok(Date.now() - started < 5_000, `stop() took ${Date.now() - started} ms`);
    assert.equal(host.stats().serviceBus.sessionsActive, 0);
  });
});
