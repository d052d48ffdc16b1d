import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ZodError } from 'zod';
import {
  applyStockOperation,
  commit,
  initialInventoryState,
  inventoryStateSchema,
  remember,
  reserve,
  stockOperations,
} from '../../../src/domain/stock';

// The stock rules alone; test/unit/functions/inventory.unit.test.ts runs them through the entity dispatcher.

describe('stock rules (pure)', () => {
  it('remember keeps at most the capacity, newest last', () => {
    assert.deepEqual(remember(['a', 'b', 'c'], 'd', 3), ['b', 'c', 'd']);
    assert.deepEqual(remember(['a'], 'b', 3), ['a', 'b']);
    assert.deepEqual(remember([], 'a', 1), ['a']);
  });

  it('commit with a small ring, then reserve: evicted baskets deduct again, remembered ones do not', () => {
    let current = inventoryStateSchema.parse({ available: 10, reservations: {} });
    for (const basketId of ['a', 'b', 'c']) {
      current = reserve(current, basketId, 1).state;
      current = commit(current, basketId, 2).state;
    }
    assert.deepEqual(current.committed, ['b', 'c']);
    assert.equal(reserve(current, 'b', 1).state, current);
    assert.equal(reserve(current, 'a', 1).state.available, 6);
  });

  it('applyStockOperation: reserve, commit, release, restock and get answer what the entity returns', () => {
    const start = initialInventoryState(5);
    const reserved = applyStockOperation(start, stockOperations.reserve, { basketId: 'b-1', quantity: 2 });
    assert.deepEqual(reserved.result, { reserved: true, quantity: 2 });
    assert.deepEqual(reserved.state.reservations, { 'b-1': 2 });
    const held = applyStockOperation(reserved.state, stockOperations.reserve, { basketId: 'b-2', quantity: 2 });
    const released = applyStockOperation(held.state, stockOperations.release, { basketId: 'b-2' });
    assert.deepEqual(released.result, { released: 2 });
    const committed = applyStockOperation(released.state, stockOperations.commit, { basketId: 'b-1' });
    assert.deepEqual(committed.result, { committed: 2 });
    assert.deepEqual(committed.state, { available: 3, reservations: {}, sold: 2, committed: ['b-1'] });
    const restocked = applyStockOperation(committed.state, stockOperations.restock, { quantity: 7 });
    assert.equal(restocked.state.available, 10);
    assert.deepEqual(restocked.result, restocked.state);
    assert.equal(applyStockOperation(restocked.state, stockOperations.get, undefined).result, restocked.state);
  });

  it('applyStockOperation: bad input names the field, an unknown operation names itself', () => {
    const start = initialInventoryState(5);
    assert.throws(
      () => applyStockOperation(start, stockOperations.reserve, { basketId: 'b-1', quantity: 0 }),
      (error: unknown) => error instanceof ZodError && error.issues.some((issue) => issue.path.includes('quantity')),
    );
    assert.throws(() => applyStockOperation(start, 'steal', {}), /no operation "steal"/);
  });
});
