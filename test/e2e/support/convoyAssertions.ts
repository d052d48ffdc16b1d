import assert from 'node:assert/strict';
import type { InvocationEvent } from '../../../local/host';
import { finalStatuses, type OrderView } from '../../../bench/lib/convoyClient';
import {
  deliveryOrderViolations,
  describeInvocation,
  maxParallelSessions,
  sameSessionOverlaps,
} from '../../../bench/lib/invocations';

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
