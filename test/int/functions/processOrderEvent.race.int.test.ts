import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConcurrencyConflictError } from '../../../src/adapters/ports';
import { paidBasket, paidBasketLines } from './support/basket';
import { orderView, startConvoyHarness, type ConvoyHarness } from './support/convoyHarness';
import { countingReads, racingStores } from './support/racingStores';
import type { Delivery } from './support/serviceBusDelivery';

/**
 * A stale consumer: one instance lost its session lock mid-message while another accepted the
 * session. Both invocations read the same stored version before either writes (support/racingStores.ts),
 * over the real Table adapter and its ETags on Azurite. Exactly one write may win; the other must
 * throw the transient ConcurrencyConflictError so Service Bus redelivers, and that retry must
 * neither apply anything twice nor lose anything.
 */

describe(
  'processOrderEvent: two consumers racing on one stored version (real ETags on Azurite)',
  { timeout: 20_000 },
  () => {
    let h: ConvoyHarness;
    before(async () => {
      h = await startConvoyHarness();
    });
    after(async () => {
      await h.close();
    });

    /** Runs `winner` and `loser` concurrently, both on the same read; `winner` writes first. */
    async function race(
      winner: Delivery,
      loser: Delivery,
      options: { cached?: boolean } = {},
    ): Promise<{ winner: unknown; loser: unknown }> {
      const stores = racingStores(h.orders);
      const [won, lost] = await Promise.allSettled([
        h.deliver(winner, h.handlerWith(stores.first, undefined, options)),
        h.deliver(loser, h.handlerWith(stores.second, undefined, options)),
      ]);
      return {
        winner: won.status === 'fulfilled' ? 'completed' : won.reason,
        loser: lost.status === 'fulfilled' ? 'completed' : lost.reason,
      };
    }

    function assertConflict(outcome: { winner: unknown; loser: unknown }): void {
      assert.equal(outcome.winner, 'completed');
      assert.ok(
        outcome.loser instanceof ConcurrencyConflictError,
        `the loser must throw ConcurrencyConflictError, got ${String(outcome.loser)}`,
      );
    }

    it('the same PaymentMade on a stale and a new consumer: one applies it, the other throws, its retry is a duplicate', async () => {
      const events = paidBasket('b-race-pay');
      for (const body of events.slice(0, 3)) await h.deliver(h.send(body));
      const payment = h.send(events[3]);

      const outcome = await race(payment, h.redelivery(payment));
      assertConflict(outcome);
      assert.ok(
        h.logs.some(
          (log) =>
            log.level === 'error' &&
            /outcome=retry basket=b-race-pay sequence=4 .*ConcurrencyConflictError/.test(log.line),
        ),
        'the loser logs that it will be retried',
      );
      assert.equal(
        h.fulfillment.calls.filter((call) => call.basketId === 'b-race-pay').length,
        1,
        'only the winner asks',
      );

      await h.deliver(h.redelivery(h.redelivery(payment)));
      const view = await orderView(h, 'b-race-pay');
      assert.equal(view.status, 'Paid');
      assert.deepEqual(
        view.applied.map((entry) => [entry.sequence, entry.deliveryCount]),
        [
          [1, 1],
          [2, 1],
          [3, 1],
          [4, 1],
        ],
      );
      assert.deepEqual(
        view.duplicates.map((entry) => [entry.sequence, entry.deliveryCount]),
        [[4, 3]],
      );
      assert.deepEqual(h.fulfillment.started.get('b-race-pay'), {
        basketId: 'b-race-pay',
        lines: paidBasketLines,
        nextSequence: 5,
      });
    });

    it('a new basket created by two reading consumers at once: one insert wins, the other conflicts and its retry is a duplicate', async () => {
      const first = h.send(paidBasket('b-race-new')[0]);
      // Without an order cache both read "no order" (the racing stores hold both reads until both are done).
      assertConflict(await race(first, h.redelivery(first), { cached: false }));
      await h.deliver(h.redelivery(h.redelivery(first)));
      const view = await orderView(h, 'b-race-new');
      assert.deepEqual(
        view.applied.map((entry) => entry.sequence),
        [1],
      );
      assert.deepEqual(
        view.duplicates.map((entry) => entry.sequence),
        [1],
      );
    });

    it('a new basket created by two caching consumers: both decide on "no order yet" without reading; the second insert conflicts, it reads and records a duplicate in the same call', async () => {
      const first = h.send(paidBasket('b-race-new-cached')[0]);
      const loserOrders = countingReads(h.orders);
      await h.deliver(first, h.handlerWith(h.orders));
      await h.deliver(h.redelivery(first), h.handlerWith(loserOrders));
      assert.deepEqual(loserOrders.reads, ['b-race-new-cached'], 'the refused insert made the loser read once');
      const view = await orderView(h, 'b-race-new-cached');
      assert.deepEqual(
        [view.applied.map((entry) => entry.sequence), view.duplicates.map((entry) => entry.sequence)],
        [[1], [1]],
      );
    });

    for (const winnerIs of ['the stale consumer (sequence 2)', 'the new owner (sequence 3)'] as const) {
      it(`different sequences racing, ${winnerIs} writes first: the retry completes the convoy, each event applied once`, async () => {
        const basketId = winnerIs.startsWith('the stale') ? 'b-race-a' : 'b-race-b';
        const events = paidBasket(basketId);
        await h.deliver(h.send(events[0]));
        const second = h.send(events[1]);
        const third = h.send(events[2]);
        const [winner, loser] = winnerIs.startsWith('the stale') ? [second, third] : [third, second];

        assertConflict(await race(winner, loser));
        const between = await orderView(h, basketId);
        assert.deepEqual(
          [between.lastAppliedSequence, between.parked.map((entry) => entry.sequence)],
          winner === second ? [2, []] : [1, [3]],
          'only the winner’s decision is stored',
        );

        await h.deliver(h.redelivery(loser));
        await h.deliver(h.send(events[3]));
        const view = await orderView(h, basketId);
        assert.equal(view.status, 'Paid');
        assert.deepEqual(
          view.applied.map((entry) => entry.sequence),
          [1, 2, 3, 4],
        );
        assert.deepEqual([view.parked, view.rejected, view.duplicates], [[], [], []]);
      });
    }
  },
);
