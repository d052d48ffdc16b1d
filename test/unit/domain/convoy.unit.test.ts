import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rejectInvalid, requiredEffects, type ConvoyOutcome, type ConvoyResult } from '../../../src/domain/convoy';
import type { OrderRecord } from '../../../src/domain/orderRecord';
import {
  at,
  basketId,
  checkedOut,
  checkedOutBasket,
  delivery,
  given,
  inventoryInsufficient,
  inventoryReserved,
  itemAdded,
  limits,
  paidBasket,
  paymentMade,
  when,
} from './scenario';

const sequencesOf = (record: OrderRecord) => record.applied.map((entry) => entry.sequence);
const parkedOf = (record: OrderRecord) => record.parked.map((entry) => entry.event.sequence);
const rejectedOf = (record: OrderRecord) => record.rejected.map((entry) => entry.sequence);

function isKind<K extends ConvoyOutcome['kind']>(
  outcome: ConvoyOutcome,
  kind: K,
): outcome is Extract<ConvoyOutcome, { kind: K }> {
  return outcome.kind === kind;
}

function expectOutcome<K extends ConvoyOutcome['kind']>(
  result: ConvoyResult,
  kind: K,
): Extract<ConvoyOutcome, { kind: K }> {
  const { outcome } = result;
  if (!isKind(outcome, kind)) assert.fail(`expected outcome ${kind}, got ${JSON.stringify(outcome)}`);
  return outcome;
}

describe('convoy: in order', () => {
  it('given no record, when sequence 1 arrives, then a record is created and the event applied', () => {
    const result = when(undefined, itemAdded(1));
    assert.deepEqual(expectOutcome(result, 'applied').applied, [1]);
    assert.equal(result.record.basketId, basketId);
    assert.equal(result.record.status, 'Open');
    assert.equal(result.record.lastAppliedSequence, 1);
    assert.equal(result.record.createdAt, result.record.updatedAt);
  });

  it('given a checked-out basket, when the exact payment arrives, then it is Paid and the applied log is in order', () => {
    const result = when(given(checkedOutBasket()), paymentMade(4, 20.25));
    assert.deepEqual(expectOutcome(result, 'applied').applied, [4]);
    assert.equal(result.record.status, 'Paid');
    assert.deepEqual(sequencesOf(result.record), [1, 2, 3, 4]);
    assert.deepEqual(
      result.record.applied.map((entry) => entry.type),
      ['ItemAdded', 'ItemAdded', 'BasketCheckedOut', 'PaymentMade'],
    );
  });

  it('the applied log keeps the delivery facts of the message that carried the event', () => {
    const event = itemAdded(1);
    const result = when(undefined, event, limits, { ...delivery(event, 3), serviceSequenceNumber: '9007199254740993' });
    assert.deepEqual(result.record.applied[0], {
      sequence: 1,
      type: 'ItemAdded',
      eventId: 'b-1:1',
      occurredAt: event.occurredAt,
      appliedAt: result.record.updatedAt,
      deliveryCount: 3,
      serviceSequenceNumber: '9007199254740993',
    });
  });

  it('receiving never changes the record it was given', () => {
    const record = given(checkedOutBasket());
    const before = structuredClone(record);
    when(record, paymentMade(4, 20.25));
    when(record, paymentMade(4, 1));
    when(record, itemAdded(9));
    assert.deepEqual(record, before);
  });
});

describe('convoy: duplicates', () => {
  it('given sequences 1-3 applied, when sequence 2 is redelivered, then nothing changes but the duplicate log', () => {
    const record = given(checkedOutBasket())!;
    const result = when(record, itemAdded(2, 'SKU-2', 1, 1.25), limits, delivery(itemAdded(2), 2));
    expectOutcome(result, 'duplicate');
    const { duplicates, updatedAt, ...rest } = result.record;
    const { duplicates: _before, updatedAt: _updated, ...restBefore } = record;
    assert.deepEqual(rest, restBefore);
    assert.deepEqual(
      duplicates.map(({ sequence, eventId, deliveryCount, seenAt }) => ({ sequence, eventId, deliveryCount, seenAt })),
      [{ sequence: 2, eventId: 'b-1:2', deliveryCount: 2, seenAt: updatedAt }],
    );
  });

  it('a duplicate with different content (a producer bug) is still a duplicate: first one wins', () => {
    const result = when(given(checkedOutBasket()), itemAdded(1, 'OTHER', 99, 1));
    expectOutcome(result, 'duplicate');
    assert.equal(result.record.lines[0]?.sku, 'SKU-1');
    assert.equal(result.record.totalMinor, 2025);
  });

  it('given an event parked, when it arrives again, then it is a duplicate and parked once', () => {
    const record = given([itemAdded(1), itemAdded(3)]);
    const result = when(record, itemAdded(3));
    expectOutcome(result, 'duplicate');
    assert.deepEqual(parkedOf(result.record), [3]);
  });

  it('the duplicate log is bounded and keeps the newest sightings', () => {
    let record = given([itemAdded(1)]);
    for (let count = 1; count <= 5; count += 1) {
      record = when(record, itemAdded(1), { ...limits, maxDuplicates: 3 }, delivery(itemAdded(1), count)).record;
    }
    assert.deepEqual(
      record!.duplicates.map((entry) => entry.deliveryCount),
      [3, 4, 5],
    );
  });
});

describe('convoy: gaps, parking and draining', () => {
  it('given sequence 1 applied, when sequence 3 arrives, then it is parked waiting for 2', () => {
    const result = when(given([itemAdded(1)]), itemAdded(3, 'SKU-3'));
    assert.equal(expectOutcome(result, 'parked').waitingFor, 2);
    assert.equal(result.record.lastAppliedSequence, 1);
    assert.deepEqual(parkedOf(result.record), [3]);
    assert.equal(result.record.lines.length, 1);
  });

  it('given 3 parked, when 2 arrives, then 2 and 3 are applied in order and nothing stays parked', () => {
    const result = when(given([itemAdded(1), itemAdded(3, 'SKU-3')]), itemAdded(2, 'SKU-2'));
    assert.deepEqual(expectOutcome(result, 'applied').applied, [2, 3]);
    assert.deepEqual(sequencesOf(result.record), [1, 2, 3]);
    assert.deepEqual(
      result.record.lines.map((line) => line.sku),
      ['SKU-1', 'SKU-2', 'SKU-3'],
    );
    assert.deepEqual(result.record.parked, []);
  });

  it('given a whole basket arriving in reverse, when sequence 1 finally arrives, then the order is Paid', () => {
    const reversed = [...paidBasket()].reverse();
    const record = given(reversed.slice(0, -1));
    assert.deepEqual(parkedOf(record!), [2, 3, 4]);
    assert.equal(record!.lastAppliedSequence, 0);
    const result = when(record, reversed.at(-1)!);
    assert.deepEqual(expectOutcome(result, 'applied').applied, [1, 2, 3, 4]);
    assert.equal(result.record.status, 'Paid');
  });

  it('draining stops at the next gap: given 4 and 6 parked, when 3 arrives, then 3-4 apply and 6 waits for 5', () => {
    const record = given([itemAdded(1), itemAdded(2), itemAdded(6), itemAdded(4)]);
    const result = when(record, itemAdded(3));
    assert.deepEqual(expectOutcome(result, 'applied').applied, [3, 4]);
    assert.deepEqual(parkedOf(result.record), [6]);
    const next = when(result.record, itemAdded(5));
    assert.deepEqual(expectOutcome(next, 'applied').applied, [5, 6]);
  });

  it('a drained event keeps the delivery facts of the message that carried it, not of the one that unblocked it', () => {
    const three = itemAdded(3);
    let record = given([itemAdded(1)]);
    record = when(record, three, limits, { ...delivery(three, 4), serviceSequenceNumber: '77' }).record;
    const result = when(record, itemAdded(2), limits, { ...delivery(itemAdded(2), 1), serviceSequenceNumber: '78' });
    assert.deepEqual(
      result.record.applied.slice(1).map((entry) => [entry.sequence, entry.deliveryCount, entry.serviceSequenceNumber]),
      [
        [2, 1, '78'],
        [3, 4, '77'],
      ],
    );
  });

  it('given the parked limit reached, when one more event must park, then the order is blocked with the reason', () => {
    const small = { maxParkedEvents: 2 };
    const record = given([itemAdded(1), itemAdded(3), itemAdded(4)], small);
    const result = when(record, itemAdded(5), small);
    const outcome = expectOutcome(result, 'blocked');
    assert.match(
      outcome.reason,
      /Too many events parked: 2 events already wait for sequence 2; ItemAdded at sequence 5 overflowed/,
    );
    assert.equal(result.record.status, 'Blocked');
    assert.equal(result.record.blockedReason, outcome.reason);
    assert.deepEqual(result.record.parked, []);
    assert.deepEqual(rejectedOf(result.record), [5, 3, 4]);
    assert.equal(result.record.lastAppliedSequence, 1);
  });

  it('given one slot left, when an event parks, then it is parked (the limit is inclusive)', () => {
    const small = { maxParkedEvents: 2 };
    const result = when(given([itemAdded(1), itemAdded(3)], small), itemAdded(4), small);
    expectOutcome(result, 'parked');
    assert.deepEqual(parkedOf(result.record), [3, 4]);
  });
});

describe('convoy: blocking', () => {
  it('given a checked-out basket, when a wrong payment arrives, then the order is blocked with the rule', () => {
    const result = when(given(checkedOutBasket()), paymentMade(4, 1));
    const outcome = expectOutcome(result, 'blocked');
    assert.deepEqual(outcome.applied, []);
    assert.match(
      outcome.reason,
      /PaymentMade at sequence 4 broke a rule: .*1\.00 EUR does not equal the basket total of 20\.25 EUR/,
    );
    assert.equal(result.record.status, 'Blocked');
    assert.equal(result.record.blockedReason, outcome.reason);
    assert.equal(result.record.lastAppliedSequence, 3);
    assert.deepEqual(rejectedOf(result.record), [4]);
    assert.equal(result.record.rejected[0]?.type, 'PaymentMade');
  });

  it('given an empty basket, when it is checked out, then the order is blocked', () => {
    const result = when(undefined, checkedOut(1));
    assert.match(expectOutcome(result, 'blocked').reason, /at least one item/);
  });

  it('given a blocked order, when later events arrive, then they are rejected and never applied', () => {
    const blocked = when(given(checkedOutBasket()), paymentMade(4, 1)).record;
    const result = when(blocked, inventoryReserved(5));
    assert.match(
      expectOutcome(result, 'rejected').reason,
      /The order is blocked \(PaymentMade at sequence 4 broke a rule/,
    );
    assert.equal(result.record.status, 'Blocked');
    assert.equal(result.record.lastAppliedSequence, 3);
    assert.deepEqual(rejectedOf(result.record), [4, 5]);
  });

  it('given a blocked order, when the corrected event for the blocking sequence arrives, then it is not applied either', () => {
    const blocked = when(given(checkedOutBasket()), paymentMade(4, 1)).record;
    const result = when(blocked, paymentMade(4, 20.25));
    expectOutcome(result, 'duplicate');
    assert.equal(result.record.status, 'Blocked');
    assert.equal(result.record.lastAppliedSequence, 3);
  });

  it('given a blocked order, when a rejected event is redelivered, then it is a duplicate, not a second rejection', () => {
    const blocked = when(given(checkedOutBasket()), paymentMade(4, 1)).record;
    const once = when(blocked, itemAdded(6)).record;
    const result = when(once, itemAdded(6));
    expectOutcome(result, 'duplicate');
    assert.deepEqual(rejectedOf(result.record), [4, 6]);
  });

  it('given parked successors, when a drained event breaks a rule, then what came before stays applied and the rest is rejected', () => {
    // 3 (checkout) 4 (wrong payment) 5 (inventory) wait for 2.
    const record = given([itemAdded(1), checkedOut(3), paymentMade(4, 99), inventoryReserved(5)]);
    const result = when(record, itemAdded(2, 'SKU-2'));
    const outcome = expectOutcome(result, 'blocked');
    assert.deepEqual(outcome.applied, [2, 3]);
    assert.match(outcome.reason, /PaymentMade at sequence 4 broke a rule/);
    assert.equal(result.record.lastAppliedSequence, 3);
    assert.equal(result.record.status, 'Blocked');
    assert.deepEqual(result.record.parked, []);
    assert.deepEqual(rejectedOf(result.record), [4, 5]);
    assert.match(result.record.rejected[1]?.reason ?? '', /blocked at sequence 4 before this parked event could apply/);
  });

  it('the rejected log is bounded; the blocking reason survives in blockedReason', () => {
    const bounded = { maxParkedEvents: 10, maxRejected: 2 };
    let record = when(given(checkedOutBasket(), bounded), paymentMade(4, 1), bounded).record;
    for (const sequence of [5, 6, 7]) record = when(record, itemAdded(sequence), bounded).record;
    assert.deepEqual(rejectedOf(record), [6, 7]);
    assert.match(record.blockedReason ?? '', /PaymentMade at sequence 4/);
  });
});

describe('convoy: events that failed their schema at a known sequence', () => {
  const invalid = (sequence: number) => ({
    basketId,
    sequence,
    type: 'PaymentMade',
    eventId: `${basketId}:${String(sequence)}`,
  });
  const deliveryOf = (sequence: number) => delivery({ eventId: `${basketId}:${String(sequence)}` });

  it('given the convoy waits for sequence 4, when 4 is invalid, then the order is blocked: 4 can never arrive valid', () => {
    const result = rejectInvalid(
      given(checkedOutBasket()),
      invalid(4),
      'data.amount: expected number',
      deliveryOf(4),
      at(),
      limits,
    );
    const outcome = expectOutcome(result, 'blocked');
    assert.equal(outcome.reason, 'Sequence 4 is invalid: data.amount: expected number');
    assert.equal(result.record.blockedReason, outcome.reason);
    assert.deepEqual(rejectedOf(result.record), [4]);
  });

  it('given no record, when sequence 1 is invalid, then a blocked record is created', () => {
    const result = rejectInvalid(undefined, invalid(1), 'bad', deliveryOf(1), at(), limits);
    expectOutcome(result, 'blocked');
    assert.equal(result.record.basketId, basketId);
    assert.equal(result.record.status, 'Blocked');
  });

  it('given a later sequence is invalid, then the order is blocked now and parked events are rejected', () => {
    const record = given([itemAdded(1), itemAdded(3)]);
    const result = rejectInvalid(record, invalid(5), 'bad', deliveryOf(5), at(), limits);
    expectOutcome(result, 'blocked');
    assert.deepEqual(rejectedOf(result.record), [5, 3]);
  });

  it('given sequence 2 applied, when an invalid message claims sequence 2, then it is rejected without blocking', () => {
    const result = rejectInvalid(given(checkedOutBasket()), invalid(2), 'bad', deliveryOf(2), at(), limits);
    expectOutcome(result, 'rejected');
    assert.equal(result.record.status, 'CheckedOut');
  });

  it('given a valid event parked at a sequence, when an invalid copy of it arrives, then it is a duplicate and nothing blocks', () => {
    const record = given([itemAdded(1), itemAdded(3)]);
    const result = rejectInvalid(record, invalid(3), 'bad', deliveryOf(3), at(), limits);
    expectOutcome(result, 'duplicate');
    assert.equal(result.record.status, 'Open');
    assert.deepEqual(parkedOf(result.record), [3]);
  });

  it('given an invalid message recorded, when it is redelivered, then it is a duplicate', () => {
    const once = rejectInvalid(given(checkedOutBasket()), invalid(4), 'bad', deliveryOf(4), at(), limits).record;
    const result = rejectInvalid(once, invalid(4), 'bad', deliveryOf(4), at(), limits);
    expectOutcome(result, 'duplicate');
    assert.equal(result.record.rejected.length, 1);
    assert.equal(result.record.duplicates.length, 1);
  });

  it('given a blocked order, when an invalid message arrives, then it is rejected and the first reason stays', () => {
    const blocked = when(given(checkedOutBasket()), paymentMade(4, 1)).record;
    const result = rejectInvalid(blocked, invalid(5), 'bad', deliveryOf(5), at(), limits);
    expectOutcome(result, 'rejected');
    assert.match(result.record.blockedReason ?? '', /PaymentMade at sequence 4/);
  });
});

describe('convoy: required effects (derived from state, so a crash before acting heals on redelivery)', () => {
  it('given a Paid order, then fulfillment must be started with the quantities per SKU and the next sequence', () => {
    const record = given([
      itemAdded(1, 'SKU-1', 2),
      itemAdded(2, 'SKU-2', 1),
      itemAdded(3, 'SKU-1', 1),
      checkedOut(4),
      paymentMade(5, 38),
    ]);
    assert.equal(record!.status, 'Paid');
    assert.deepEqual(requiredEffects(record!), [
      {
        kind: 'startFulfillment',
        request: {
          basketId,
          lines: [
            { sku: 'SKU-1', quantity: 3 },
            { sku: 'SKU-2', quantity: 1 },
          ],
          nextSequence: 6,
        },
      },
    ]);
  });

  it('given a Paid order, when PaymentMade is redelivered, then the same effect is still required', () => {
    const record = given(paidBasket())!;
    const afterDuplicate = when(record, paymentMade(4, 20.25)).record;
    assert.deepEqual(requiredEffects(afterDuplicate), requiredEffects(record));
    assert.equal(requiredEffects(afterDuplicate).length, 1);
  });

  const noEffects: [string, () => OrderRecord | undefined][] = [
    ['Open', () => given([itemAdded(1)])],
    ['CheckedOut', () => given(checkedOutBasket())],
    ['Fulfilled', () => given([...paidBasket(), inventoryReserved(5)])],
    ['Backordered', () => given([...paidBasket(), inventoryInsufficient(5)])],
    ['Blocked', () => when(given(checkedOutBasket()), paymentMade(4, 1)).record],
  ];
  for (const [status, build] of noEffects) {
    it(`given a ${status} order, then nothing is required`, () => {
      const record = build()!;
      assert.equal(record.status, status);
      assert.deepEqual(requiredEffects(record), []);
    });
  }

  it('given a Paid order, when InventoryUpdated arrives at the next sequence, then it is Fulfilled', () => {
    const paid = given(paidBasket())!;
    const [effect] = requiredEffects(paid);
    const result = when(paid, inventoryReserved(effect!.request.nextSequence));
    assert.deepEqual(expectOutcome(result, 'applied').applied, [5]);
    assert.equal(result.record.status, 'Fulfilled');
  });
});
