import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { convoyAppModules, field, startHarness, statusOf, type Harness } from './fixtures/harness';
import { probe } from './fixtures/probe';

/** The convoy's own fulfillOrder orchestration and inventory entity, run by the local backend. */
describe('local durable backend: the convoy fulfillment', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ appModules: convoyAppModules });
  });
  after(async () => {
    await h.backend.close();
  });

  const inventory = async (sku: string): Promise<unknown> => (await h.api(`entities/inventory/${sku}`)).body;
  /** Starts the convoy's fulfillOrder through the library's client, as processOrderEvent does. */
  const startFulfillment = (instanceId: string, input: Record<string, unknown>): Promise<unknown> =>
    h.client({ action: 'start', name: 'fulfillOrder', instanceId, input });

  it('reserves every SKU of a basket, publishes InventoryUpdated, then commits the reservations as sold', async () => {
    const lines = [
      { sku: 'SKU-1', quantity: 2 },
      { sku: 'SKU-2', quantity: 1 },
      { sku: 'SKU-1', quantity: 1 },
    ];
    await startFulfillment('fulfill-b1', { basketId: 'b1', lines, nextSequence: 4 });
    await h.backend.whenIdle();
    const status = await statusOf(h, 'fulfill-b1');
    assert.equal(status.runtimeStatus, 'Completed');
    assert.deepEqual(status.output, { outcome: 'reserved' });
    assert.deepEqual(await inventory('SKU-1'), { available: 2, reservations: {}, sold: 3, committed: ['b1'] });
    assert.deepEqual(await inventory('SKU-2'), { available: 4, reservations: {}, sold: 1, committed: ['b1'] });
    const event = probe.published.find((e) => field(e, 'basketId') === 'b1');
    assert.equal(field(event, 'type'), 'InventoryUpdated');
    assert.equal(field(event, 'sequence'), 4);

    // The same basket fulfilled again from a fresh history (e.g. its instance purged): no second sale.
    await startFulfillment('fulfill-b1-again', { basketId: 'b1', lines, nextSequence: 4 });
    await h.backend.whenIdle();
    assert.deepEqual((await statusOf(h, 'fulfill-b1-again')).output, { outcome: 'reserved' });
    assert.deepEqual(await inventory('SKU-1'), { available: 2, reservations: {}, sold: 3, committed: ['b1'] });
  });

  it('never sells the same stock twice when baskets compete for it', async () => {
    const baskets = Array.from({ length: 12 }, (_, i) => `race-${i}`);
    await Promise.all(
      baskets.map((basketId) =>
        startFulfillment(`fulfill-${basketId}`, {
          basketId,
          lines: [
            { sku: 'HOT', quantity: 1 },
            { sku: `COLD-${basketId}`, quantity: 1 },
          ],
          nextSequence: 2,
        }),
      ),
    );
    await h.backend.whenIdle();
    const outcomes = await Promise.all(
      baskets.map(async (b) => field((await statusOf(h, `fulfill-${b}`)).output, 'outcome')),
    );
    assert.equal(outcomes.filter((o) => o === 'reserved').length, 5, 'default stock is 5');
    assert.equal(outcomes.filter((o) => o === 'insufficient').length, 7);
    const hot = await inventory('HOT');
    assert.equal(field(hot, 'available'), 0);
    assert.equal(field(hot, 'sold'), 5);
    // Committed once published: no reservation outlives its fulfillment.
    assert.deepEqual(field(hot, 'reservations'), {});
    const committed = field(hot, 'committed');
    assert.ok(Array.isArray(committed));
    assert.equal(committed.length, 5);
    // Baskets that fell short released what they had reserved of their other SKU.
    for (const [i, basketId] of baskets.entries()) {
      const cold = await inventory(`COLD-${basketId}`);
      assert.equal(field(cold, 'available'), outcomes[i] === 'reserved' ? 4 : 5);
    }
  });
});
