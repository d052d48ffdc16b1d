import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { ServiceBusClient, type ServiceBusReceivedMessage } from '@azure/service-bus';
import { z } from 'zod';
import { finalStatuses, waitForOrders } from '../harness/convoyClient';
import { appRoot, orderEventsQueue, startStack, type Stack } from '../harness/stack';
import { toServiceBusMessage } from '../../src/adapters/serviceBusPublisher';
import { eventEnvelopeSchema } from '../../src/domain/events';
import { paidBasket } from '../int/functions/support/basket';

/**
 * Replay through the whole local stack: the local host serves the HTTP functions (with their durable
 * client), the emulator holds the dead letter, the real Durable backend fulfils the order once the
 * replay has paid it.
 */

const hostJson: unknown = JSON.parse(readFileSync(join(appRoot, 'host.json'), 'utf8'));

const viewSchema = z.object({
  status: z.string(),
  lastAppliedSequence: z.number(),
  parked: z.array(z.object({ sequence: z.number() })),
  deadLettered: z.array(
    z.object({ sequence: z.number().optional(), messageId: z.string(), reason: z.string().optional() }),
  ),
});
const replaySchema = z.object({
  remaining: z.number(),
  letters: z.array(z.object({ sequence: z.number().optional(), outcome: z.string(), removed: z.boolean() })),
  order: z.object({ status: z.string() }).optional(),
});

describe('dead letters end to end (local host + emulator + Azurite + Durable)', { timeout: 120_000 }, () => {
  let stack: Stack | undefined;
  let client: ServiceBusClient | undefined;
  before(async () => {
    stack = await startStack({ hostJson });
    client = new ServiceBusClient(stack.emulator.connectionString);
  });
  // A protocol error drops every session on its connection: the test in which the stack printed one fails.
  afterEach(() => {
    stack?.assertNoProtocolErrors();
  });
  after(async () => {
    await client?.close();
    await stack?.stop();
  });

  it('GET /api/orders names the dead-lettered sequence; POST /api/dead-letters/{id}/replay heals the basket to Fulfilled', async () => {
    assert.ok(stack !== undefined && client !== undefined);
    const basketId = `e2e-dlq-${String(Date.now())}`;
    // With the host stopped, dead-letter sequence 2 by hand; then the host sees 1, 3, 4 only.
    await stack.host.stop();
    const sender = client.createSender(orderEventsQueue);
    await sender.sendMessages(paidBasket(basketId).map((body) => toServiceBusMessage(eventEnvelopeSchema.parse(body))));
    await sender.close();
    const receiver = await client.acceptSession(orderEventsQueue, basketId);
    const received: ServiceBusReceivedMessage[] = [];
    while (received.length < 2)
      received.push(...(await receiver.receiveMessages(2 - received.length, { maxWaitTimeInMs: 2000 })));
    for (const message of received) {
      if (message.messageId === `${basketId}:2`) {
        await receiver.deadLetterMessage(message, {
          deadLetterReason: 'E2E',
          deadLetterErrorDescription: 'by the test',
        });
      } else await receiver.abandonMessage(message);
    }
    await receiver.close();
    const host = await stack.restartHost();

    let view: z.infer<typeof viewSchema> | undefined;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const response = await fetch(`${host.url}/api/orders/${basketId}`);
      if (response.status === 200) view = viewSchema.parse(await response.json());
      else await response.body?.cancel();
      if (view?.parked.length === 2) break;
      await sleep(300);
    }
    assert.ok(view !== undefined, 'the order exists');
    assert.deepEqual([view.status, view.lastAppliedSequence, view.parked.map((p) => p.sequence)], ['Open', 1, [3, 4]]);
    assert.deepEqual(
      view.deadLettered.map((l) => [l.sequence, l.messageId, l.reason]),
      [[2, `${basketId}:2`, 'E2E']],
    );

    const response = await fetch(`${host.url}/api/dead-letters/${basketId}/replay`, { method: 'POST' });
    assert.equal(response.status, 200);
    const replay = replaySchema.parse(await response.json());
    assert.deepEqual(
      replay.letters.map((l) => [l.sequence, l.outcome, l.removed]),
      [[2, 'applied', true]],
    );
    assert.equal(replay.order?.status, 'Paid');

    const orders = await waitForOrders(
      host.url,
      [basketId],
      (o) => o !== undefined && finalStatuses.has(o.status),
      60_000,
    );
    const done = orders.get(basketId);
    assert.equal(done?.status, 'Fulfilled');
    assert.deepEqual(
      done.applied.map((a) => a.sequence),
      [1, 2, 3, 4, 5],
    );
    const left = await fetch(`${host.url}/api/dead-letters/${basketId}`);
    assert.equal(z.object({ count: z.number() }).parse(await left.json()).count, 0);
  });
});
