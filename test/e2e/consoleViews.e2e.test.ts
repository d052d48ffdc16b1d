import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import { z } from 'zod';
import { startConvoy, type Convoy } from '@convoy/dev-stack';
import { toServiceBusMessage } from '../../src/adapters/serviceBusPublisher';
import { eventEnvelopeSchema } from '../../src/domain/events';
import { paidBasket } from '../int/functions/support/basket';

/**
 * The console's JSON views and the stuck-basket watchdog on the whole local stack (local host,
 * emulator, Azurite, Durable backend), with a 3-second threshold and a watchdog ticking every second:
 * a basket missing an event is found without being looked for, named with its reason in the views and
 * in the watchdog's log lines, and leaves the stuck list once the event arrives.
 */

const stuckSchema = z.object({
  items: z.array(
    z.object({
      basketId: z.string(),
      status: z.string(),
      reason: z.object({
        code: z.string(),
        text: z.string(),
        sequence: z.number().optional(),
        parkedSequences: z.array(z.number()).optional(),
      }),
    }),
  ),
});
const overviewSchema = z.object({
  basketsByStatus: z.record(z.string(), z.number()),
  stuckBaskets: z.number().nullable(),
  backlog: z.object({ active: z.number().nullable(), deadLettered: z.number().nullable() }),
});
const timelineSchema = z.object({
  status: z.string().nullable(),
  entries: z.array(z.object({ kind: z.string(), sequence: z.number().optional() })),
  fulfillment: z.object({ runtimeStatus: z.string(), steps: z.array(z.unknown()) }).nullable(),
  reserved: z.array(z.object({ sku: z.string(), quantity: z.number() })),
});

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T = await read();
  while (!done(last)) {
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(last)}`);
    await sleep(500);
    last = await read();
  }
  return last;
}

describe('console views and the watchdog on the local stack', { timeout: 180_000 }, () => {
  let convoy: Convoy | undefined;
  let client: ServiceBusClient | undefined;
  const lines: string[] = [];
  before(async () => {
    convoy = await startConvoy({
      port: 0,
      settings: { STUCK_THRESHOLD_SECONDS: '3', STUCK_WATCHDOG_SCHEDULE: '* * * * * *' },
      log: (line) => lines.push(line),
    });
    client = new ServiceBusClient(convoy.emulator.connectionString);
  });
  after(async () => {
    await client?.close();
    await convoy?.stop();
  });

  it('finds the basket waiting for a sequence, says why, and lets it go once the sequence arrives', async () => {
    assert.ok(convoy !== undefined && client !== undefined);
    const url = convoy.url;
    const get = async (path: string): Promise<unknown> => {
      const response = await fetch(`${url}/api${path}`);
      assert.equal(response.status, 200, path);
      return response.json();
    };
    const gap = `e2e-gap-${String(Date.now())}`;
    const healthy = `e2e-ok-${String(Date.now())}`;
    const events = paidBasket(gap).map((body) => eventEnvelopeSchema.parse(body));
    const sender = client.createSender('order-events');
    await sender.sendMessages(events.filter((e) => e.sequence !== 2).map((e) => toServiceBusMessage(e)));
    const published = await fetch(`${url}/api/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        baskets: [{ basketId: healthy, currency: 'EUR', items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 9.5 }] }],
      }),
    });
    assert.equal(published.status, 202);

    const stuck = await until(
      'the gap basket listed as stuck',
      async () => stuckSchema.parse(await get('/console/stuck?limit=50')),
      (page) => page.items.some((item) => item.basketId === gap),
    );
    const item = stuck.items.find((candidate) => candidate.basketId === gap);
    assert.deepEqual(item?.reason, {
      code: 'waiting-for-sequence',
      text: 'Waiting for sequence 2; sequences 3, 4 parked behind it.',
      sequence: 2,
      parkedSequences: [3, 4],
    });
    assert.ok(!stuck.items.some((candidate) => candidate.basketId === healthy));

    const expected = `stuckBasketWatchdog stuck basketId=${gap} status=Open reason=waiting-for-sequence Waiting for sequence 2; sequences 3, 4 parked behind it.`;
    await until(
      'the watchdog line for the gap basket',
      () => Promise.resolve(lines.some((l) => l.includes(expected))),
      Boolean,
    );
    // The local host folds the app's information lines into its one line per call (after the function's name).
    assert.ok(lines.some((l) => /stuckBasketWatchdog .*\btick stuckBaskets=\d+ inFlight=\d+ rowsRead=\d+$/.test(l)));

    const timeline = await until(
      'the healthy basket Fulfilled on its timeline',
      async () => timelineSchema.parse(await get(`/console/baskets/${healthy}/timeline`)),
      (view) => view.status === 'Fulfilled',
    );
    assert.ok(timeline.entries.some((entry) => entry.kind === 'applied' && entry.sequence === 4));
    assert.equal(timeline.fulfillment?.runtimeStatus, 'Completed');
    assert.ok(timeline.fulfillment.steps.length > 0);
    assert.deepEqual(timeline.reserved, [{ sku: 'SKU-1', quantity: 2 }]);

    // The missing event arrives: the basket moves on, out of the stuck list, to Fulfilled.
    const missing = events.find((e) => e.sequence === 2);
    assert.ok(missing !== undefined);
    await sender.sendMessages(toServiceBusMessage(missing));
    await sender.close();
    await until(
      'the gap basket healed',
      async () => stuckSchema.parse(await get('/console/stuck?limit=50')),
      (page) => !page.items.some((candidate) => candidate.basketId === gap),
    );
    const overview = await until(
      'the overview counting both baskets Fulfilled',
      async () => overviewSchema.parse(await get('/console/overview')),
      (view) => (view.basketsByStatus.Fulfilled ?? 0) >= 2,
      30_000,
    );
    assert.equal(overview.backlog.deadLettered, 0);
  });
});
