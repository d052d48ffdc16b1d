import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import type { InvocationEvent } from '@convoy/functions-host';
import { fulfillmentInstanceId, fulfillOrderOrchestration } from '../../src/adapters/durableFulfillment';
import { quantitiesBySku } from '../../src/domain/order';
import { planRun, runPrefix, type PlannedRun } from '../harness/baskets';
import { finalStatuses, publishBaskets, waitForOrders, type OrderView } from '../harness/convoyClient';
import type { Fault } from '../harness/hostProtocol';
import { sequenceOfMessageId } from '../harness/invocations';
import { appRoot, startStack, type Stack } from '../harness/stack';
import {
  callsReported,
  assertConvoyExact,
  assertDeliveriesAccounted,
  assertSessionDiscipline,
  consumer,
} from './support/convoyAssertions';

/**
 * The whole convoy on one machine: Azurite + the Service Bus emulator + the local host running the
 * built app (dist/) in its own process, configured by the repository's host.json.
 */

const hostJson: unknown = JSON.parse(readFileSync(join(appRoot, 'host.json'), 'utf8'));
const drainTimeoutMs = 60_000;
const isFinal = (order: OrderView | undefined): boolean => order !== undefined && finalStatuses.has(order.status);

describe('convoy end to end', { timeout: 150_000 }, () => {
  let stack: Stack | undefined;
  const running = (): Stack => {
    assert.ok(stack !== undefined, 'stack not started');
    return stack;
  };
  before(async () => {
    stack = await startStack({ hostJson });
  });
  // A protocol error drops every session on its connection: the test in which the stack printed one fails.
  afterEach(() => {
    stack?.assertNoProtocolErrors();
  });
  after(async () => {
    await stack?.stop();
  });

  it('applies 50 interleaved baskets in order, sessions in parallel, one call per session at a time', async (t) => {
    const { host } = running();
    const response = await publishBaskets(host.url, { generate: { baskets: 50, itemsPerBasket: 3, interleave: true } });
    const published = new Map(response.baskets.map((b) => [b.basketId, b.events]));
    assert.equal(published.size, 50);

    const orders = await waitForOrders(host.url, [...published.keys()], isFinal, drainTimeoutMs);
    assertConvoyExact(orders, published);
    await callsReported(() => host.events, published);
    const mine = host.events.filter((e) => e.sessionId !== undefined && published.has(e.sessionId));
    // One call per event, unless a session lock was lost (a starved machine): then its redeliveries
    // must be recorded duplicates. A redelivery without a lost lock is a bug.
    const { sessionsLockLost } = await host.serviceBusStats();
    const redelivered = assertDeliveriesAccounted(mine, orders, published, { sessionsLockLost });
    const parallel = assertSessionDiscipline(mine, 4);
    assert.ok(parallel <= 16, `${String(parallel)} sessions at once exceeds maxConcurrentSessions 16`);
    t.diagnostic(
      `up to ${String(parallel)} sessions ran at once; ${String(redelivered)} redelivery(ies) after ${String(sessionsLockLost)} lost session lock(s)`,
    );
  });

  it('keeps the order when a handler throws once (before and after saving)', async (t) => {
    const s = running();
    const run = planRun(runPrefix('fault'), 20, 3);
    const ids = [...run.published.keys()];
    // before: nothing saved, the redelivery applies it; after: saved, the redelivery is a recorded duplicate.
    const faults: Fault[] = [
      ...ids.slice(0, 5).map((id): Fault => ({ messageId: `${id}:2`, when: 'before' })),
      ...ids.slice(5, 10).map((id): Fault => ({ messageId: `${id}:4`, when: 'after' })),
      ...ids.slice(10, 12).map((id): Fault => ({ messageId: `${id}:6`, when: 'before' })),
    ];
    await s.host.stop();
    const host = await s.restartHost({ faults });
    await publishBaskets(host.url, run.request);

    const orders = await waitForOrders(host.url, ids, isFinal, drainTimeoutMs);
    assertConvoyExact(orders, run.published);
    await callsReported(() => host.events, run.published);
    const mine = host.events.filter((e) => e.sessionId !== undefined && run.published.has(e.sessionId));
    assertSessionDiscipline(mine);
    const { sessionsLockLost } = await host.serviceBusStats();
    const unplanned = assertDeliveriesAccounted(mine, orders, run.published, {
      sessionsLockLost,
      causedRetries: faults.length,
    });
    t.diagnostic(
      `${String(unplanned)} redelivery(ies) beyond the faults, after ${String(sessionsLockLost)} lost lock(s)`,
    );

    for (const fault of faults) {
      const basketId = fault.messageId.slice(0, fault.messageId.lastIndexOf(':'));
      const sequence = Number(fault.messageId.slice(fault.messageId.lastIndexOf(':') + 1));
      const session = mine
        .filter((e) => e.sessionId === basketId && e.functionName === consumer)
        .sort((a, b) => a.startedAt - b.startedAt);
      const failedAt = session.findIndex((e) => e.messageId === fault.messageId && e.outcome === 'failed');
      assert.ok(failedAt >= 0, `no failed invocation for ${fault.messageId}`);
      const retry = session[failedAt + 1];
      // Abandoned → redelivered first in its session, before any later event of the basket.
      assert.equal(
        retry?.messageId,
        fault.messageId,
        `after the failure of ${fault.messageId} the session went on with ${retry?.messageId ?? 'nothing'}`,
      );
      // 2, or more if a session lock was also lost in between (a starved machine).
      const retryCount = retry.deliveryCount ?? 0;
      assert.ok(retryCount >= 2, `the retry of ${fault.messageId} is not a redelivery`);
      assert.equal(retry.outcome, 'succeeded');

      const order = orders.get(basketId);
      const applied = order?.applied.find((a) => a.sequence === sequence);
      const duplicates = order?.duplicates.filter((d) => d.sequence === sequence) ?? [];
      // Any duplicate beyond the one below is a later redelivery (a lost lock), checked above.
      if (fault.when === 'before') {
        assert.equal(applied?.deliveryCount, retryCount, `${fault.messageId} should be applied by its retry`);
        assert.ok(
          duplicates.every((d) => d.deliveryCount > retryCount),
          `${fault.messageId} recorded a duplicate before it was applied`,
        );
      } else {
        assert.equal(applied?.deliveryCount, 1, `${fault.messageId} should be applied by its first delivery`);
        assert.equal(
          duplicates[0]?.deliveryCount,
          retryCount,
          `the retry of ${fault.messageId} should be recorded as a duplicate`,
        );
      }
    }
  });

  it('loses nothing and applies nothing twice when the host is killed mid-run and restarted', async (t) => {
    const s = running();
    const run = planRun(runPrefix('kill'), 50, 3);
    const ids = [...run.published.keys()];
    await s.host.stop();
    // A handler cost keeps several calls in flight at the moment of the kill.
    const first = await s.restartHost({ faults: [], handlerCostMs: 25 });
    // Kill right after a PaymentMade was handled past call 100: its fulfillment is then most likely
    // still running in the process that dies, which exercises the re-drive below.
    const killAfter = 100;
    const reached = new Promise<void>((resolve) => {
      let done = 0;
      first.onInvocation((e) => {
        if (e.functionName !== consumer || e.outcome !== 'succeeded') return;
        if (++done >= killAfter && sequenceOfMessageId(e.messageId) === 5) resolve();
      });
    });
    await publishBaskets(first.url, run.request);
    const giveUp = new AbortController();
    const timeout = sleep(drainTimeoutMs, undefined, { signal: giveUp.signal }).then(() => {
      assert.fail(`fewer than ${String(killAfter)} calls before the kill`);
    });
    await Promise.race([reached, timeout]).finally(() => {
      giveUp.abort();
    });
    await timeout.catch(() => undefined);
    await first.kill();
    const beforeKill: readonly InvocationEvent[] = [...first.events];

    const second = await s.restartHost({ faults: [], handlerCostMs: 0 });
    // The local durable backend is in memory: a fulfillment running in the killed process is gone,
    // where Azure's durable storage would resume it. Such a basket stays Paid with its whole log
    // applied; the test resumes its instance through the durable HTTP API, as a restart would.
    const settled = (o: OrderView | undefined): boolean => o !== undefined && (isFinal(o) || o.status === 'Paid');
    await waitForOrders(second.url, ids, settled, drainTimeoutMs, 'Paid, Fulfilled or Backordered');
    await quiet(second.events, 2_000, drainTimeoutMs);
    const stuck = [...(await waitForOrders(second.url, ids, settled, 5_000)).entries()]
      .filter(([, o]) => o?.status === 'Paid')
      .map(([id]) => id);
    await resumeFulfillments(second.url, run, stuck);

    const orders = await waitForOrders(second.url, ids, isFinal, drainTimeoutMs);
    assertConvoyExact(orders, run.published);
    // Handled (and saved) by the killed host but never completed: redelivered, recorded as a duplicate.
    const handledBefore = new Set(
      beforeKill.filter((e) => e.functionName === consumer && e.outcome === 'succeeded').map((e) => e.messageId),
    );
    const replayed = second.events.filter((e) => e.functionName === consumer && handledBefore.has(e.messageId));
    for (const event of replayed) {
      const order = orders.get(event.sessionId ?? '');
      assert.ok(
        order?.duplicates.some((d) => d.eventId === event.messageId && d.deliveryCount === event.deliveryCount),
        `${event.messageId ?? '?'} was handled before the kill and again after it, but no duplicate was recorded`,
      );
    }
    const all = [...beforeKill, ...second.events].filter(
      (e) => e.sessionId !== undefined && run.published.has(e.sessionId),
    );
    assertSessionDiscipline(all);
    // In-flight deliveries of the killed host come back with a higher delivery count.
    const redelivered = second.events.filter((e) => e.functionName === consumer && (e.deliveryCount ?? 1) > 1);
    assert.ok(redelivered.length >= 1, 'no message in flight at the kill was redelivered');
    t.diagnostic(
      `killed after ${String(beforeKill.filter((e) => e.functionName === consumer).length)} calls; ${String(redelivered.length)} redelivered to the new host, ${String(replayed.length)} of them already applied (recorded as duplicates); ${String(stuck.length)} lost fulfillment(s) resumed`,
    );
  });
});

/** Resolves once no invocation has been reported for `quietMs`. */
async function quiet(events: readonly InvocationEvent[], quietMs: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let count = events.length;
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) assert.fail(`the host did not go quiet within ${String(timeoutMs)} ms`);
    await sleep(200);
    if (events.length !== count) {
      count = events.length;
      since = Date.now();
    }
  }
}

/**
 * Starts fulfillOrder again for baskets whose instance died with the killed host, with the
 * input processOrderEvent gives it (lines per SKU, the sequence after PaymentMade).
 */
async function resumeFulfillments(baseUrl: string, run: PlannedRun, basketIds: readonly string[]): Promise<void> {
  for (const basketId of basketIds) {
    const basket = run.request.baskets.find((b) => b.basketId === basketId);
    assert.ok(basket !== undefined, `no planned basket ${basketId}`);
    // What processOrderEvent would have asked for: lines per SKU, InventoryUpdated after PaymentMade
    // (ItemAdded × n, BasketCheckedOut, PaymentMade → n + 3).
    const input = { basketId, lines: quantitiesBySku(basket.items), nextSequence: basket.items.length + 3 };
    const instanceId = encodeURIComponent(fulfillmentInstanceId(basketId));
    const response = await fetch(
      `${baseUrl}/runtime/webhooks/durabletask/orchestrators/${fulfillOrderOrchestration}/${instanceId}`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) },
    );
    assert.equal(response.status, 202, `starting fulfillOrder for ${basketId}: ${await response.text()}`);
  }
}
