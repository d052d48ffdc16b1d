import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ServiceBusClient, type ServiceBusMessage } from '@azure/service-bus';
import { startEmulator, type RunningEmulator } from '@convoy/servicebus-emulator';
import { startLocalHost, type InvocationEvent, type LocalHost } from '../../src';
import { journal } from './fixtures/app/src/journal';

const sessionQueue = 'fixture-sessions';
const plainQueue = 'fixture-plain';
/** From fixtures/app/host.json. */
const maxConcurrentSessions = 4;

function queue(name: string, requiresSession: boolean): { Name: string; Properties: Record<string, unknown> } {
  return { Name: name, Properties: { RequiresSession: requiresSession, LockDuration: 'PT30S', MaxDeliveryCount: 10 } };
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function bodyField(body: unknown, key: string): unknown {
  if (typeof body !== 'object' || body === null) return undefined;
  return Object.entries(body).find(([k]) => k === key)?.[1];
}

/** The largest number of sessions whose invocations were running at the same instant. */
function maxParallelSessions(events: readonly InvocationEvent[]): number {
  const edges = events.flatMap((e) => [
    { at: e.startedAt, delta: 1 },
    { at: e.endedAt, delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let running = 0;
  let max = 0;
  for (const edge of edges) {
    running += edge.delta;
    max = Math.max(max, running);
  }
  return max;
}

// Sessions on the emulator are received on rhea (the default) or, with CONVOY_SESSION_RECEIVER=sdk, through the SDK.
for (const receiver of ['rhea', 'sdk'] as const)
  describe(`Service Bus session triggers on the local host (embedded emulator, ${receiver} session receiver)`, () => {
    let emulator: RunningEmulator;
    let host: LocalHost;
    let client: ServiceBusClient;
    const events: InvocationEvent[] = [];
    const lines: string[] = [];

    before(async () => {
      journal.length = 0; // the fixture app's module (and its journal) outlives one suite
      emulator = await startEmulator({
        config: {
          UserConfig: {
            Namespaces: [
              { Name: 'sbemulatorns', Queues: [queue(sessionQueue, true), queue(plainQueue, false)], Topics: [] },
            ],
          },
        },
      });
      host = await startLocalHost({
        appRoot: join(__dirname, 'fixtures', 'app'),
        port: 0,
        settings: { ServiceBusConnection: emulator.connectionString, CONVOY_SESSION_RECEIVER: receiver },
        log: (line) => lines.push(line),
      });
      host.onInvocation((event) => events.push(event));
      client = new ServiceBusClient(emulator.connectionString);
    });
    after(async () => {
      await host.stop();
      await client.close();
      await emulator.close();
    });

    it('keeps each session in order, runs sessions in parallel up to maxConcurrentSessions, never overlaps one session', async () => {
      const sessions = ['s1', 's2', 's3', 's4', 's5', 's6'];
      const messages: ServiceBusMessage[] = [];
      for (let i = 0; i < 5; i++) {
        for (const sessionId of sessions)
          messages.push({ sessionId, messageId: `${sessionId}-${i}`, body: { sessionId, i, delayMs: 25 } });
      }
      await client.createSender(sessionQueue).sendMessages(messages);
      const mine = (): InvocationEvent[] =>
        events.filter((e) => e.sessionId !== undefined && sessions.includes(e.sessionId));
      await until(() => mine().length === messages.length, 'every message to be handled');

      for (const sessionId of sessions) {
        const seen = journal
          .filter((j) => j.triggerMetadata.sessionId === sessionId)
          .map((j) => bodyField(j.body, 'i'));
        assert.deepEqual(seen, [0, 1, 2, 3, 4], `order of ${sessionId}`);
        const calls = mine().filter((e) => e.sessionId === sessionId);
        for (let k = 1; k < calls.length; k++) {
          const previous = calls[k - 1]!;
          const current = calls[k]!;
          assert.ok(
            current.startedAt >= previous.endedAt,
            `${sessionId}: call ${k} started before call ${k - 1} ended`,
          );
          assert.ok((current.sequenceNumber ?? 0) > (previous.sequenceNumber ?? 0));
        }
      }
      const parallel = maxParallelSessions(mine());
      assert.ok(parallel > 1, `sessions ran one at a time (max parallel ${parallel})`);
      assert.ok(
        parallel <= maxConcurrentSessions,
        `more than ${maxConcurrentSessions} sessions ran at once (${parallel})`,
      );
      // Six sessions with four slots: the idle ones must be closed so the rest get accepted.
      await until(() => host.stats().serviceBus.sessionsActive === 0, 'idle sessions to close');
      assert.ok(host.stats().serviceBus.sessionsIdleClosed >= sessions.length);
      assert.ok(lines.some((line) => /session s\d accepted by processEvent/.test(line)));
      assert.ok(lines.some((line) => /session s\d idle-closed after 500 ms/.test(line)));
    });

    it('abandons a message whose handler threw; it comes back first and the session order holds', async () => {
      const sessionId = 'retry-me';
      await client.createSender(sessionQueue).sendMessages(
        [0, 1, 2, 3].map((i) => ({
          sessionId,
          messageId: `${sessionId}-${i}`,
          body: { i, failOnFirstDelivery: i === 1 },
        })),
      );
      const mine = (): InvocationEvent[] => events.filter((e) => e.sessionId === sessionId);
      await until(() => mine().length === 5, 'the retried session to finish');
      assert.deepEqual(
        mine().map((e) => [e.outcome, e.deliveryCount]),
        [
          ['succeeded', 1],
          ['failed', 1],
          ['succeeded', 2],
          ['succeeded', 1],
          ['succeeded', 1],
        ],
      );
      assert.deepEqual(
        journal.filter((j) => j.triggerMetadata.sessionId === sessionId).map((j) => bodyField(j.body, 'i')),
        [0, 1, 1, 2, 3],
      );
      assert.ok(host.stats().serviceBus.messagesAbandoned >= 1);
      assert.ok(
        lines.some((line) =>
          /processEvent {2}session=retry-me {2}serviceSequence=\d+ {2}deliveryCount=1 {2}.* FAILED: failing the first delivery/.test(
            line,
          ),
        ),
      );
    });

    it('gives the handler the trigger metadata the host sends, camel-cased by the library', async () => {
      await client.createSender(sessionQueue).sendMessages({
        sessionId: 'meta',
        messageId: 'meta-1',
        subject: 'ItemAdded',
        contentType: 'application/json',
        correlationId: 'corr-1',
        applicationProperties: { EventType: 'ItemAdded', sequence: 7 },
        body: { hello: 'world' },
      });
      await until(() => journal.some((j) => j.triggerMetadata.sessionId === 'meta'), 'the metadata message');
      const entry = journal.find((j) => j.triggerMetadata.sessionId === 'meta');
      assert.ok(entry !== undefined);
      assert.deepEqual(entry.body, { hello: 'world' });
      const m = entry.triggerMetadata;
      assert.equal(m.deliveryCount, 1);
      assert.equal(m.messageId, 'meta-1');
      assert.equal(m.subject, 'ItemAdded');
      assert.equal(m.label, 'ItemAdded');
      assert.equal(m.contentType, 'application/json');
      assert.equal(m.correlationId, 'corr-1');
      assert.equal(typeof m.sequenceNumber, 'number');
      assert.match(String(m.lockToken), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.match(String(m.enqueuedTimeUtc), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/);
      assert.match(String(m.enqueuedTime), /\+00:00$/);
      assert.equal(typeof m.expiresAtUtc, 'string');
      // ApplicationProperties' own keys are camel-cased too (EventType → eventType).
      assert.deepEqual(m.applicationProperties, { eventType: 'ItemAdded', sequence: 7 });
      assert.deepEqual(m.userProperties, m.applicationProperties);
      assert.equal(bodyField(m.sys, 'methodName'), 'processEvent');
    });

    it('runs non-session queue triggers too: text, JSON and bytes bodies', async () => {
      await client.createSender(plainQueue).sendMessages([
        { messageId: 'p-1', body: 'plain text' },
        { messageId: 'p-2', body: { a: 1 } },
        { messageId: 'p-3', body: Buffer.from('not json') },
      ]);
      await until(() => journal.filter((j) => j.functionName === 'processPlain').length === 3, 'the plain queue');
      const bodies = journal.filter((j) => j.functionName === 'processPlain').map((j) => j.body);
      assert.deepEqual(
        new Set(bodies.map((b) => JSON.stringify(b))),
        new Set(['"plain text"', '{"a":1}', '"not json"']),
      );
      assert.ok(
        events
          .filter((e) => e.functionName === 'processPlain')
          .every((e) => e.sessionId === undefined && e.outcome === 'succeeded'),
      );
    });

    it('stop() lets an in-flight call finish and complete its message', async () => {
      await client
        .createSender(sessionQueue)
        .sendMessages({ sessionId: 'slow', messageId: 'slow-1', body: { i: 0, delayMs: 400 } });
      await until(() => journal.some((j) => j.triggerMetadata.sessionId === 'slow'), 'the slow call to start');
      const completedBefore = host.stats().serviceBus.messagesCompleted;
      await host.stop();
      const slow = events.find((e) => e.sessionId === 'slow');
      assert.equal(slow?.outcome, 'succeeded');
      assert.equal(host.stats().serviceBus.messagesCompleted, completedBefore + 1);
      assert.equal(host.stats().invocations.inFlight, 0);
    });
  });
