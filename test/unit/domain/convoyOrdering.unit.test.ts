import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { receive, requiredEffects } from '../../../src/domain/convoy';
import type { EventEnvelope } from '../../../src/domain/events';
import type { OrderRecord } from '../../../src/domain/orderRecord';
import { seededRandom } from '../../harness/soak/plan';
import { at, checkedOut, delivery, itemAdded, paymentMade } from './scenario';

/**
 * The guarantee as a property: whatever the arrival order and however many redeliveries, the order
 * applies every event exactly once, in sequence, and ends where in-order delivery ends.
 * Seeded, so a failure names the seed that reproduces it.
 */

function shuffledWithDuplicates(events: readonly EventEnvelope[], next: () => number): EventEnvelope[] {
  const deliveries = [...events, ...events.filter(() => next() < 0.3)];
  for (let i = deliveries.length - 1; i > 0; i -= 1) {
    const j = Math.floor(next() * (i + 1));
    [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
  }
  return deliveries;
}

const basket: EventEnvelope[] = [
  itemAdded(1, 'SKU-1', 2, 9.5),
  itemAdded(2, 'SKU-2', 1, 4.99),
  itemAdded(3, 'SKU-1', 1, 9.5),
  itemAdded(4, 'SKU-3', 3, 12),
  itemAdded(5, 'SKU-4', 1, 0.01),
  checkedOut(6, 'EUR'),
  paymentMade(7, 19 + 4.99 + 9.5 + 36 + 0.01, 'EUR'),
];

function deliverAll(events: readonly EventEnvelope[]): OrderRecord {
  let record: OrderRecord | undefined;
  for (const event of events) record = receive(record, event, delivery(event), at(), { maxParkedEvents: 10 }).record;
  assert.ok(record !== undefined);
  return record;
}

describe('convoy ordering property', () => {
  const inOrder = deliverAll(basket);

  it('in-order delivery pays the basket (the reference)', () => {
    assert.equal(inOrder.status, 'Paid');
  });

  it('any arrival order with redeliveries ends exactly like in-order delivery (500 seeded shuffles)', () => {
    for (let seed = 1; seed <= 500; seed += 1) {
      const arrivals = shuffledWithDuplicates(basket, seededRandom(seed));
      const record = deliverAll(arrivals);
      const observed = {
        applied: record.applied.map((entry) => entry.sequence),
        status: record.status,
        lines: record.lines,
        totalMinor: record.totalMinor,
        parked: record.parked.length,
        rejected: record.rejected.length,
        duplicates: record.duplicates.length,
        effects: requiredEffects(record),
      };
      const expected = {
        applied: [1, 2, 3, 4, 5, 6, 7],
        status: inOrder.status,
        lines: inOrder.lines,
        totalMinor: inOrder.totalMinor,
        parked: 0,
        rejected: 0,
        duplicates: arrivals.length - basket.length,
        effects: requiredEffects(inOrder),
      };
      assert.deepEqual(
        observed,
        expected,
        `seed ${String(seed)}: arrivals ${arrivals.map((event) => event.sequence).join(',')}`,
      );
    }
  });
});
