import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScenario } from '../../../bench/lib/scenario';

/**
 * bench:convoy's null-save floor must be what it claims: the null trigger plus exactly one order save
 * per event (a create, then ETag-guarded replaces) and nothing else, with every event handled once, in order.
 */

describe('bench null-save app', { timeout: 180_000 }, () => {
  it('saves the order exactly once per event, through the orders table, and nothing else', async () => {
    const baskets = 8;
    const eventsPerBasket = 4;
    const result = await runScenario({
      mode: 'null-save',
      baskets,
      eventsPerBasket,
      handlerCostMs: 0,
      maxConcurrentSessions: 4,
      sessionIdleTimeoutMs: 100,
      timeoutMs: 120_000,
    });
    const cost = result.breakdown.perEvent;
    assert.equal(result.orderingViolations, 0);
    assert.equal(cost.appliedEvents, baskets * eventsPerBasket);
    const events = cost.appliedEvents;
    assert.deepEqual(
      {
        orderReads: Math.round(cost.orderReads * events),
        orderWrites: Math.round(cost.orderWrites * events),
        // The orders table is created on the first save (the store's lazyTable), inside the measured burst.
        otherTable: Math.round(cost.otherTable * events),
        index: Math.round(cost.indexWrites * events),
        metrics: Math.round(cost.metricsWrites * events),
        durable: Math.round((cost.durableStarts + cost.durableOther) * events),
      },
      { orderReads: 0, orderWrites: events, otherTable: 1, index: 0, metrics: 0, durable: 0 },
    );
  });
});
