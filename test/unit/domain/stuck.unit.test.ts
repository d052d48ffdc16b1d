import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { receive } from '../../../src/domain/convoy';
import type { OrderRecord } from '../../../src/domain/orderRecord';
import {
  bucketKey,
  indexWrites,
  inFlightRowOf,
  isStuck,
  lastProgressAt,
  stuckReason,
  type StuckEvidence,
} from '../../../src/domain/stuck';
import { checkedOut, delivery, given, inventoryReserved, itemAdded, limits, paymentMade } from './scenario';

/** The stuck-basket rules: where a basket's index row lives, when it moves, and why a basket is stuck. */

const minute = 60_000;
const none: StuckEvidence = { deadLetters: [], quarantined: [] };

function required(record: OrderRecord | undefined): OrderRecord {
  assert.ok(record !== undefined);
  return record;
}

/** The record after one more event received at `at`. */
function then(record: OrderRecord, event: Parameters<typeof receive>[1], at: string): OrderRecord {
  return receive(record, event, delivery(event), at, limits).record;
}

describe('in-flight index rows', () => {
  it('keys a row by the start of its last-progress bucket, as sortable ISO text', () => {
    assert.equal(bucketKey(Date.parse('2026-01-01T12:00:59.999Z'), minute), '2026-01-01T12:00:00.000Z');
    assert.equal(bucketKey(Date.parse('2026-01-01T12:01:00.000Z'), minute), '2026-01-01T12:01:00.000Z');
  });

  it('counts progress from the last applied event, not from parked or duplicate deliveries', () => {
    const open = required(given([itemAdded(1)]));
    const appliedAt = open.applied[0]?.appliedAt;
    const parked = then(open, itemAdded(3), '2026-01-01T13:00:00.000Z');
    assert.equal(lastProgressAt(parked), appliedAt);
    const duplicate = then(parked, itemAdded(1), '2026-01-01T13:05:00.000Z');
    assert.equal(lastProgressAt(duplicate), appliedAt);
  });

  it('counts a block as progress (it is when the basket stopped)', () => {
    const blocked = then(required(given([itemAdded(1)])), checkedOut(3), '2026-01-01T12:00:00.500Z');
    const broken = then(blocked, paymentMade(2, 1), '2026-01-01T14:00:00.000Z');
    assert.equal(broken.status, 'Blocked');
    assert.equal(lastProgressAt(broken), '2026-01-01T14:00:00.000Z');
  });

  it('a new basket gets a row; a step inside the same bucket writes nothing', () => {
    const first = required(given([itemAdded(1)]));
    assert.deepEqual(indexWrites(undefined, first, minute, false), { put: inFlightRowOf(first, minute) });
    const second = then(first, itemAdded(2), '2026-01-01T12:00:00.900Z');
    assert.deepEqual(indexWrites(first, second, minute, false), {});
  });

  it('a redelivered step puts the row again (the delivery before may have crashed between the writes)', () => {
    const first = required(given([itemAdded(1)]));
    const second = then(first, itemAdded(2), '2026-01-01T12:00:00.900Z');
    assert.deepEqual(indexWrites(first, second, minute, true), { put: inFlightRowOf(second, minute) });
  });

  it('moves the row when the last progress crosses into another bucket', () => {
    const first = required(given([itemAdded(1)]));
    const later = then(first, itemAdded(2), '2026-01-01T12:07:30.000Z');
    const writes = indexWrites(first, later, minute, false);
    assert.equal(writes.put?.bucket, '2026-01-01T12:07:00.000Z');
    assert.deepEqual(writes.drop, { bucket: '2026-01-01T12:00:00.000Z', basketId: first.basketId });
  });

  it('drops the row when the order ends, and writes nothing for a finished order', () => {
    const paid = required(given([itemAdded(1), checkedOut(2), paymentMade(3, 9.5)]));
    const done = then(paid, inventoryReserved(4), '2026-01-01T12:00:00.950Z');
    assert.equal(inFlightRowOf(done, minute), undefined);
    assert.deepEqual(indexWrites(paid, done, minute, false), {
      drop: { bucket: inFlightRowOf(paid, minute)?.bucket, basketId: paid.basketId },
    });
    const again = then(done, inventoryReserved(4), '2026-01-01T12:00:00.990Z');
    assert.deepEqual(indexWrites(done, again, minute, true), {});
  });

  it('is stuck once not terminal and without progress for the threshold', () => {
    const open = required(given([itemAdded(1)]));
    const progress = Date.parse(lastProgressAt(open));
    assert.equal(isStuck(open, progress + 5 * minute - 1, 5 * minute), false);
    assert.equal(isStuck(open, progress + 5 * minute, 5 * minute), true);
    const done = required(given([itemAdded(1), checkedOut(2), paymentMade(3, 9.5), inventoryReserved(4)]));
    assert.equal(isStuck(done, progress + 60 * minute, 5 * minute), false);
  });
});

describe('why a basket is stuck, in words', () => {
  const gap = () => then(required(given([itemAdded(1)])), itemAdded(3), '2026-01-01T12:00:00.500Z');

  it('waiting for a sequence, naming the parked ones behind it', () => {
    assert.deepEqual(stuckReason(gap(), none), {
      code: 'waiting-for-sequence',
      text: 'Waiting for sequence 2; sequence 3 parked behind it.',
      sequence: 2,
      parkedSequences: [3],
    });
    assert.equal(
      stuckReason(required(given([itemAdded(1)])), none).text,
      'Waiting for sequence 2; nothing later has arrived.',
    );
  });

  it('the missing sequence is in the dead-letter queue, with the broker reason', () => {
    const letters = [
      { sequence: 7, reason: 'Other' },
      {
        sequence: 2,
        reason: 'MaxDeliveryCountExceeded',
        description: 'Message could not be consumed after 10 delivery attempts.',
      },
    ];
    assert.deepEqual(stuckReason(gap(), { ...none, deadLetters: letters }), {
      code: 'dead-lettered',
      text: "Sequence 2 is in the dead-letter queue (MaxDeliveryCountExceeded: Message could not be consumed after 10 delivery attempts.); sequence 3 parked behind it; replay the basket's dead letters.",
      sequence: 2,
      deadLetterReason: 'MaxDeliveryCountExceeded: Message could not be consumed after 10 delivery attempts.',
      parkedSequences: [3],
    });
  });

  it('a message of the basket is quarantined', () => {
    const reason = stuckReason(gap(), { ...none, quarantined: [{ messageId: 'm-9', reason: 'body is not JSON' }] });
    assert.equal(reason.code, 'quarantined');
    assert.match(reason.text, /m-9 .*body is not JSON/);
  });

  it('blocked: the rule, before anything else', () => {
    const blocked = then(required(given([itemAdded(1), checkedOut(2)])), paymentMade(3, 1), '2026-01-01T12:00:01.000Z');
    const reason = stuckReason(blocked, { ...none, deadLetters: [{ sequence: 4 }] });
    assert.equal(reason.code, 'blocked');
    assert.match(
      reason.text,
      /^Blocked: PaymentMade at sequence 3 broke a rule: PaymentMade of 1\.00 EUR does not equal/,
    );
  });

  it('paid: fulfillment failed, or not moving (with its runtime status)', () => {
    const paid = required(given([itemAdded(1), checkedOut(2), paymentMade(3, 9.5)]));
    const failed = stuckReason(paid, { ...none, fulfillmentStatus: 'Failed' });
    assert.equal(failed.code, 'fulfillment-failed');
    assert.match(failed.text, /fulfill-b-1 is Failed: InventoryUpdated \(sequence 4\) will not come/);
    assert.equal(stuckReason(paid, { ...none, fulfillmentStatus: 'Running' }).code, 'fulfillment-stalled');
    assert.match(stuckReason(paid, none).text, /is not started and not moving/);
  });
});
