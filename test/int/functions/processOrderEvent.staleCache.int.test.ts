import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { paidBasket } from './support/basket';
import { orderView, startConvoyHarness, type ConvoyHarness } from './support/convoyHarness';
import { countingReads } from './support/racingStores';

/**
 * The order cache is only a guess. Here a consumer cached basket b-stale after its own writes, then
 * another writer (another instance's handler, with its own cache) applied the next event. The first
 * consumer's next save carries the old ETag: Azurite refuses it, the consumer reads the row again
 * and applies its event on the fresh record, in the same call.
 */

describe('processOrderEvent: a stale order cache (real ETags on Azurite)', { timeout: 20_000 }, () => {
  let h: ConvoyHarness;
  before(async () => {
    h = await startConvoyHarness();
  });
  after(async () => {
    await h.close();
  });

  it('saves without reading while its cache is current, and after another writer, conflicts, re-reads and applies once', async () => {
    const orders = countingReads(h.orders);
    const cached = h.handlerWith(orders);
    const other = h.handlerWith(h.orders);
    const [first, item, checkout, payment] = paidBasket('b-stale');

    await h.deliver(h.send(first), cached);
    await h.deliver(h.send(item), cached);
    assert.deepEqual(orders.reads, [], 'the first event creates the row and the next saves on the cached ETag');

    await h.deliver(h.send(checkout), other);
    await h.deliver(h.send(payment), cached);
    assert.deepEqual(orders.reads, ['b-stale'], 'the refused save made the consumer read the row once');

    const view = await orderView(h, 'b-stale');
    assert.equal(view.status, 'Paid');
    const applied = view.applied.map((entry) => `${String(entry.sequence)}@${String(entry.deliveryCount)}`);
    assert.deepEqual(applied, ['1@1', '2@1', '3@1', '4@1'], 'each event applied once, in order, first delivery');
    assert.equal(h.fulfillment.calls.filter((call) => call.basketId === 'b-stale').length, 1);
  });
});
