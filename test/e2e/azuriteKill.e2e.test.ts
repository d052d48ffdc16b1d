import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { planRun, runPrefix } from '../harness/baskets';
import { finalStatuses, publishBaskets, waitForOrders, type OrderView } from '../harness/convoyClient';
import { stockViolations } from '../harness/endState';
import { startConvoy, type AzuriteEvent, type Convoy } from '@convoy/dev-stack';
import { assertConvoyExact } from './support/convoyAssertions';

/**
 * `npm start -- --data-dir` with Azurite alone killed -9 mid-run. Azurite saves its tables every 5 s,
 * so the orders written since its last save are gone while their messages were completed. The stack
 * gives those completions back to the queue and restarts Azurite: every basket still ends final with
 * its events applied once each, in order, and the stock of every SKU matches the Fulfilled baskets.
 * (npm run chaos:azurite does the same on 200 baskets through npm start itself.)
 */

const baskets = 60;
const isFinal = (order: OrderView | undefined): boolean => order !== undefined && finalStatuses.has(order.status);

describe('Azurite killed under --data-dir', { timeout: 300_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'convoy-azurite-kill-'));
  const events: AzuriteEvent[] = [];
  let convoy: Convoy | undefined;
  before(async () => {
    convoy = await startConvoy({
      port: 0,
      dataDir,
      log: () => undefined,
      onAzurite: (event) => events.push(event),
    });
  });
  after(async () => {
    await convoy?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses nothing: every basket final, applied in order, stock consistent', async () => {
    assert.ok(convoy !== undefined);
    const ledger = convoy.emulator.completions;
    assert.ok(ledger !== undefined, 'the emulator keeps completions under --data-dir');
    const plan = planRun(runPrefix('azkill'), baskets, 3);
    await publishBaskets(convoy.url, plan.request);

    // Kill once enough completions happened after Azurite's last save: their orders are not on disk.
    const deadline = Date.now() + 120_000;
    while (ledger.size < 40) {
      assert.ok(Date.now() < deadline, `only ${String(ledger.size)} completions after Azurite's last save`);
      await sleep(20);
    }
    const victim = convoy.azurite.pid;
    process.kill(victim, 'SIGKILL');
    while (!events.some((e) => e.kind === 'back')) {
      assert.ok(!events.some((e) => e.kind === 'gaveUp'), JSON.stringify(events));
      await sleep(50);
    }
    const died = events.find((e) => e.kind === 'died');
    assert.ok(died?.kind === 'died' && died.pid === victim && died.restarting);
    assert.ok(
      died.lastSave !== undefined,
      'Azurite reported its table saves (packages/dev-stack/src/azurite.ts save reporter)',
    );
    assert.ok((died.gaveBack?.messages ?? 0) > 0, `completions given back: ${JSON.stringify(died.gaveBack)}`);

    const orders = await waitForOrders(convoy.url, [...plan.published.keys()], isFinal, 180_000);
    assertConvoyExact(orders, plan.published);
    const stock = await stockViolations(convoy.url, plan, orders, 1000);
    assert.deepEqual(stock.violations, []);
    assert.deepEqual(convoy.emulator.protocolErrors(), [], 'no AMQP protocol error ended a connection');
  });
});
