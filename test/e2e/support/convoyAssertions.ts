import assert from 'node:assert/strict';
import type { InvocationEvent } from '@convoy/functions-host';
import { finalStatuses, type OrderView } from '../../harness/convoyClient';
import {
  deliveryOrderViolations,
  describeInvocation,
  maxParallelSessions,
  sameSessionOverlaps,
} from '../../harness/invocations';

export const consumer = 'processOrderEvent';

/** The event ids a basket's convoy must apply: its published events, then fulfillment's InventoryUpdated. */
export function expectedEventIds(basketId: string, publishedEvents: number): string[] {
  return Array.from({ length: publishedEvents + 1 }, (_, k) => `${basketId}:${String(k + 1)}`);
}

/** Applied log = published order, nothing applied twice, nothing left parked or rejected, order final. */
export function assertConvoyExact(
  orders: ReadonlyMap<string, OrderView | undefined>,
  published: ReadonlyMap<string, number>,
): void {
  for (const [basketId, events] of published) {
    const order = orders.get(basketId);
    assert.ok(order !== undefined, `order ${basketId} was never written`);
    assert.ok(finalStatuses.has(order.status), `order ${basketId} ended ${order.status}`);
    assert.deepEqual(
      order.applied.map((a) => a.eventId),
      expectedEventIds(basketId, events),
      `applied log of ${basketId} differs from its published order`,
    );
    assert.deepEqual(
      order.applied.slice(-3).map((a) => a.type),
      ['BasketCheckedOut', 'PaymentMade', 'InventoryUpdated'],
      `applied types of ${basketId}`,
    );
    assert.deepEqual(order.parked, [], `${basketId} still has parked events`);
    assert.deepEqual(
      order.rejected,
      [],
      `${basketId} rejected events: ${order.rejected.map((r) => `${String(r.sequence)}: ${r.reason}`).join('; ')}`,
    );
    for (const duplicate of order.duplicates) {
      assert.ok(
        duplicate.sequence <= order.lastAppliedSequence,
        `${basketId}: duplicate ${String(duplicate.sequence)} lies beyond the applied log`,
      );
    }
  }
}

/** Several sessions ran at once; one session never ran two calls at once; deliveries kept FIFO. */
export function assertSessionDiscipline(events: readonly InvocationEvent[], minParallel = 2): number {
  const overlaps = sameSessionOverlaps(events, consumer);
  assert.deepEqual(
    overlaps.map((o) => `${describeInvocation(o.first)} overlaps ${describeInvocation(o.second)}`),
    [],
    'two invocations of one session overlapped',
  );
  const parallel = maxParallelSessions(events, consumer);
  assert.ok(
    parallel >= minParallel,
    `at most ${String(parallel)} session(s) ran at once; expected ≥ ${String(minParallel)}`,
  );
  assert.deepEqual(
    deliveryOrderViolations(events, consumer).map(describeInvocation),
    [],
    'a session delivered out of order',
  );
  return parallel;
}

/**
 * Waits until the host has reported a succeeded call for every published event. An order is saved
 * inside its call, so it can read final before that call's report reaches the test (on a busy
 * machine, by seconds); counting calls before then would miss the last ones.
 */
export async function callsReported(
  events: () => readonly InvocationEvent[],
  published: ReadonlyMap<string, number>,
  timeoutMs = 30_000,
): Promise<void> {
  const expected = [...published].flatMap(([basketId, count]) => expectedEventIds(basketId, count));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const succeeded = new Set(
      events()
        .filter((e) => e.functionName === consumer && e.outcome === 'succeeded')
        .map((e) => e.messageId),
    );
    const missing = expected.filter((id) => !succeeded.has(id));
    if (missing.length === 0) return;
    assert.ok(Date.now() < deadline, `no succeeded call reported for ${missing.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Every event had exactly one first delivery, and every later call of an event (a redelivery) is
 * accounted for. `causedRetries` are the redeliveries the test provoked (a handler that throws once);
 * any other is legitimate only after a lost session lock — on a starved machine the host can miss a
 * renewal, and the broker then gives the session's messages out again — and a bug otherwise. Each
 * redelivery that succeeded either applied its event (nothing applied it before) or is recorded on
 * the order as a duplicate. Returns how many redeliveries the test did not cause.
 */
export function assertDeliveriesAccounted(
  calls: readonly InvocationEvent[],
  orders: ReadonlyMap<string, OrderView | undefined>,
  published: ReadonlyMap<string, number>,
  { sessionsLockLost, causedRetries = 0 }: { sessionsLockLost: number; causedRetries?: number },
): number {
  const mine = calls.filter((e) => e.functionName === consumer);
  const isFirst = (e: InvocationEvent): boolean => (e.deliveryCount ?? 1) === 1;
  const expected = [...published].flatMap(([basketId, events]) => expectedEventIds(basketId, events));
  const firsts = mine.filter(isFirst).map((e) => e.messageId);
  const odd = expected.filter((id) => firsts.filter((first) => first === id).length !== 1);
  assert.deepEqual(
    odd,
    [],
    `one first delivery per event; calls of the others: ${mine
      .filter((e) => e.messageId !== undefined && odd.includes(e.messageId))
      .map(describeInvocation)
      .join('; ')}`,
  );
  const redeliveries = mine.filter((e) => !isFirst(e));
  const unplanned = redeliveries.length - causedRetries;
  assert.ok(
    unplanned <= 0 || sessionsLockLost > 0,
    `${String(unplanned)} redelivery(ies) beyond the ${String(causedRetries)} the test caused, and no session lock was lost: ${redeliveries.map(describeInvocation).join('; ')}`,
  );
  for (const call of redeliveries.filter((e) => e.outcome === 'succeeded')) {
    const order = orders.get(call.sessionId ?? '');
    const recorded =
      order?.applied.some((a) => a.eventId === call.messageId && a.deliveryCount === call.deliveryCount) === true ||
      order?.duplicates.some((d) => d.eventId === call.messageId && d.deliveryCount === call.deliveryCount) === true;
    assert.ok(recorded, `${describeInvocation(call)}: neither applied by this delivery nor recorded as a duplicate`);
  }
  return Math.max(0, unplanned);
}
