import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventEnvelope } from '../../../src/domain/events';
import { decide, initialOrderState, quantitiesBySku, type OrderState } from '../../../src/domain/order';
import { checkedOut, inventoryInsufficient, inventoryReserved, itemAdded, paymentMade } from './scenario';

/** Given these events (all must be accepted), the state they produce. */
function given(events: readonly EventEnvelope[]): OrderState {
  return events.reduce<OrderState>((state, event) => {
    const decision = decide(state, event);
    assert.ok(decision.accepted, `given event ${event.type}@${event.sequence} must be accepted`);
    return decision.state;
  }, initialOrderState);
}

function accepted(state: OrderState, event: EventEnvelope): OrderState {
  const decision = decide(state, event);
  assert.ok(decision.accepted, decision.accepted ? '' : decision.reason);
  return decision.state;
}

function refused(state: OrderState, event: EventEnvelope): string {
  const decision = decide(state, event);
  if (decision.accepted) assert.fail(`${event.type} must be refused in ${state.status}`);
  return decision.reason;
}

const items = [itemAdded(1, 'SKU-1', 2, 9.5), itemAdded(2, 'SKU-2', 1, 1.25)];
const checkedOutEvents = [...items, checkedOut(3, 'EUR')];
const paidEvents = [...checkedOutEvents, paymentMade(4, 20.25, 'EUR')];

describe('order decider', () => {
  describe('items only while Open', () => {
    it('given an open order, when an item is added, then it is a line and the total grows', () => {
      const state = accepted(given(items), itemAdded(3, 'SKU-3', 3, 0.1));
      assert.equal(state.status, 'Open');
      assert.deepEqual(state.lines.at(-1), { sku: 'SKU-3', quantity: 3, unitPrice: 0.1 });
      assert.equal(state.totalMinor, 2 * 950 + 125 + 3 * 10);
    });

    for (const [name, events] of [
      ['CheckedOut', checkedOutEvents],
      ['Paid', paidEvents],
      ['Fulfilled', [...paidEvents, inventoryReserved(5)]],
    ] as const) {
      it(`given a ${name} order, when an item is added, then it is refused`, () => {
        const reason = refused(given(events), itemAdded(9));
        assert.match(reason, new RegExp(`ItemAdded is only allowed while the order is Open; it is ${name}`));
      });
    }
  });

  describe('checkout needs at least one item', () => {
    it('given an empty order, when it is checked out, then it is refused', () => {
      assert.match(refused(given([]), checkedOut(1)), /at least one item/);
    });

    it('given items, when checked out, then the order is CheckedOut in that currency', () => {
      const state = accepted(given(items), checkedOut(3, 'USD'));
      assert.equal(state.status, 'CheckedOut');
      assert.equal(state.currency, 'USD');
      assert.equal(state.totalMinor, 2025);
    });

    it('given a checked-out order, when it is checked out again, then it is refused', () => {
      assert.match(
        refused(given(checkedOutEvents), checkedOut(4)),
        /only allowed while the order is Open; it is CheckedOut/,
      );
    });
  });

  describe('payment must equal the basket total in the basket currency', () => {
    it('given a checked-out basket of 20.25 EUR, when 20.25 EUR is paid, then it is Paid', () => {
      assert.equal(accepted(given(checkedOutEvents), paymentMade(4, 20.25, 'EUR')).status, 'Paid');
    });

    it('given a checked-out basket of 20.25 EUR, when 20.24 EUR is paid, then it is refused naming both amounts', () => {
      const reason = refused(given(checkedOutEvents), paymentMade(4, 20.24, 'EUR'));
      assert.match(reason, /20\.24 EUR does not equal the basket total of 20\.25 EUR/);
    });

    it('given a checked-out basket of 20.25 EUR, when 20.25 USD is paid, then it is refused', () => {
      assert.match(
        refused(given(checkedOutEvents), paymentMade(4, 20.25, 'USD')),
        /20\.25 USD does not equal .*20\.25 EUR/,
      );
    });

    it('given an open basket, when it is paid, then it is refused because it is not checked out', () => {
      assert.match(
        refused(given(items), paymentMade(3, 20.25)),
        /PaymentMade is only allowed while the order is CheckedOut; it is Open/,
      );
    });

    it('given a paid basket, when it is paid again, then it is refused', () => {
      assert.match(refused(given(paidEvents), paymentMade(5, 20.25)), /it is Paid/);
    });

    it('given cents that do not add up in floating point, when the exact total is paid, then it is Paid', () => {
      const cents = [itemAdded(1, 'A', 1, 0.1), itemAdded(2, 'B', 1, 0.2), checkedOut(3)];
      assert.equal(accepted(given(cents), paymentMade(4, 0.3)).status, 'Paid');
    });
  });

  describe('InventoryUpdated only after Paid', () => {
    it('given a paid order, when stock is reserved, then it is Fulfilled', () => {
      const state = accepted(given(paidEvents), inventoryReserved(5));
      assert.equal(state.status, 'Fulfilled');
      assert.deepEqual(state.inventory, { outcome: 'reserved' });
    });

    it('given a paid order, when stock is insufficient, then it is Backordered with the shortages', () => {
      const state = accepted(given(paidEvents), inventoryInsufficient(5, 'SKU-2', 1, 0));
      assert.equal(state.status, 'Backordered');
      assert.deepEqual(state.inventory, {
        outcome: 'insufficient',
        shortages: [{ sku: 'SKU-2', requested: 1, available: 0 }],
      });
    });

    for (const [name, events] of [
      ['Open', items],
      ['CheckedOut', checkedOutEvents],
      ['Fulfilled', [...paidEvents, inventoryReserved(5)]],
      ['Backordered', [...paidEvents, inventoryInsufficient(5)]],
    ] as const) {
      it(`given a ${name} order, when InventoryUpdated arrives, then it is refused`, () => {
        assert.match(
          refused(given(events), inventoryReserved(9)),
          new RegExp(`only allowed while the order is Paid; it is ${name}`),
        );
      });
    }
  });

  it('a Blocked state accepts nothing', () => {
    const blocked: OrderState = { ...given(items), status: 'Blocked' };
    for (const event of [itemAdded(9), checkedOut(9), paymentMade(9, 1), inventoryReserved(9)]) {
      assert.match(refused(blocked, event), /it is Blocked/);
    }
  });

  it('deciding never changes the state it was given', () => {
    const state = given(items);
    const before = structuredClone(state);
    decide(state, itemAdded(3, 'SKU-9', 5, 1));
    decide(state, checkedOut(3));
    assert.deepEqual(state, before);
  });

  it('fulfillment reserves the quantity per SKU, in the order SKUs were first added', () => {
    const state = given([itemAdded(1, 'B', 2), itemAdded(2, 'A', 1), itemAdded(3, 'B', 3)]);
    assert.deepEqual(quantitiesBySku(state.lines), [
      { sku: 'B', quantity: 5 },
      { sku: 'A', quantity: 1 },
    ]);
  });
});
