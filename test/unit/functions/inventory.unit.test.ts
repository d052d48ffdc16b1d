import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { InvocationContext } from '@azure/functions';
import { DummyEntityContext, EntityId } from 'durable-functions';
import { z } from 'zod';
import { committedCapacity, inventoryStateSchema } from '../../../src/domain/stock';
import { inventoryEntityName, makeInventoryEntity } from '../../../src/functions/inventory';

/*
 * The entity runs through durable-functions' own entity dispatcher (createEntityFunction): it gets
 * a batch of operations exactly as the Durable extension delivers them and returns the new state
 * plus one result per operation.
 */

const load = createRequire(__filename);
const testing = load('durable-functions/lib/src/util/testingUtils') as {
  createEntityFunction: (
    fn: ReturnType<typeof makeInventoryEntity>,
  ) => (trigger: unknown, context: InvocationContext) => Promise<unknown>;
};
const bindingInfo = load('durable-functions/lib/src/entities/DurableEntityBindingInfo') as {
  DurableEntityBindingInfo: new (
    self: EntityId,
    exists: boolean,
    state: string | undefined,
    batch: Operation[],
  ) => object;
};

interface Operation {
  id: string;
  name: string;
  input?: string;
  signal: boolean;
}

const resultSchema = z.object({
  entityExists: z.boolean(),
  entityState: z.string().optional(),
  results: z.array(z.object({ isError: z.boolean(), result: z.string().optional() })),
});

/** A stored state as the extension hands it over; unspecified fields take their empty values. */
function state(fields: {
  available: number;
  reservations?: Record<string, number>;
  sold?: number;
  committed?: string[];
}) {
  return JSON.stringify({ reservations: {}, sold: 0, committed: [], ...fields });
}

const entity = testing.createEntityFunction(makeInventoryEntity({ defaultStock: () => 10 }));

async function run(state: string | undefined, ops: { name: string; input?: unknown }[]) {
  const batch = ops.map((op, index) => ({
    id: `op-${String(index)}`,
    name: op.name,
    signal: false,
    ...(op.input === undefined ? {} : { input: JSON.stringify(op.input) }),
  }));
  const trigger = new bindingInfo.DurableEntityBindingInfo(
    new EntityId(inventoryEntityName, 'SKU-1'),
    state !== undefined,
    state,
    batch,
  );
  const out = resultSchema.parse(
    await entity(trigger, new DummyEntityContext(inventoryEntityName, 'inv-1', () => undefined)),
  );
  return {
    state: out.entityState === undefined ? undefined : z.unknown().parse(JSON.parse(out.entityState)),
    rawState: out.entityState,
    results: out.results.map((r) =>
      r.isError
        ? { error: r.result ?? '' }
        : r.result === undefined
          ? undefined
          : z.unknown().parse(JSON.parse(r.result)),
    ),
  };
}

describe('inventory entity (durable-functions entity dispatcher)', () => {
  it('starts from the default stock, reserves, and answers a repeated reserve of the same basket without reserving again', async () => {
    const out = await run(undefined, [
      { name: 'reserve', input: { basketId: 'b-1', quantity: 3 } },
      { name: 'reserve', input: { basketId: 'b-1', quantity: 3 } },
      { name: 'reserve', input: { basketId: 'b-2', quantity: 2 } },
    ]);
    assert.deepEqual(out.results, [
      { reserved: true, quantity: 3 },
      { reserved: true, quantity: 3 },
      { reserved: true, quantity: 2 },
    ]);
    assert.deepEqual(out.state, { available: 5, reservations: { 'b-1': 3, 'b-2': 2 }, sold: 0, committed: [] });
  });

  it('refuses a reservation larger than what is available and says how much is', async () => {
    const out = await run(state({ available: 2 }), [{ name: 'reserve', input: { basketId: 'b-3', quantity: 5 } }]);
    assert.deepEqual(out.results, [{ reserved: false, available: 2 }]);
    assert.deepEqual(out.state, { available: 2, reservations: {}, sold: 0, committed: [] });
  });

  it('releases a basket once (a second release returns nothing), and restock adds stock', async () => {
    const out = await run(state({ available: 5, reservations: { 'b-1': 3 } }), [
      { name: 'release', input: { basketId: 'b-1' } },
      { name: 'release', input: { basketId: 'b-1' } },
      { name: 'restock', input: { quantity: 100 } },
      { name: 'get' },
    ]);
    assert.deepEqual(out.results.slice(0, 2), [{ released: 3 }, { released: 0 }]);
    assert.deepEqual(out.results[3], { available: 108, reservations: {}, sold: 0, committed: [] });
    assert.deepEqual(out.state, { available: 108, reservations: {}, sold: 0, committed: [] });
  });

  it('reports bad input and unknown operations as operation errors, leaving the state unchanged', async () => {
    const before = state({ available: 5 });
    const out = await run(before, [
      { name: 'reserve', input: { basketId: 'b-1', quantity: -1 } },
      { name: 'commit', input: { basketId: 'not a basket id' } },
      { name: 'steal' },
    ]);
    assert.equal(out.results.length, 3);
    for (const result of out.results)
      assert.ok(z.object({ error: z.string() }).safeParse(result).success, JSON.stringify(result));
    assert.equal(out.rawState, before);
  });
});

describe('inventory entity: commit keeps the state to baskets in flight', () => {
  it('commit turns the reservation into sold: stock stays deducted, the entry leaves reservations', async () => {
    const out = await run(undefined, [
      { name: 'reserve', input: { basketId: 'b-1', quantity: 3 } },
      { name: 'reserve', input: { basketId: 'b-2', quantity: 2 } },
      { name: 'commit', input: { basketId: 'b-1' } },
    ]);
    assert.deepEqual(out.results[2], { committed: 3 });
    assert.deepEqual(out.state, { available: 5, reservations: { 'b-2': 2 }, sold: 3, committed: ['b-1'] });
  });

  it('is idempotent: a second commit of the same basket commits nothing and records nothing twice', async () => {
    const out = await run(state({ available: 5, reservations: { 'b-1': 3 } }), [
      { name: 'commit', input: { basketId: 'b-1' } },
      { name: 'commit', input: { basketId: 'b-1' } },
    ]);
    assert.deepEqual(out.results, [{ committed: 3 }, { committed: 0 }]);
    assert.deepEqual(out.state, { available: 5, reservations: {}, sold: 3, committed: ['b-1'] });
  });

  it('after a release, or for a basket never reserved, commit changes nothing and remembers nothing', async () => {
    const out = await run(state({ available: 5, reservations: { 'b-1': 3 } }), [
      { name: 'release', input: { basketId: 'b-1' } },
      { name: 'commit', input: { basketId: 'b-1' } },
      { name: 'commit', input: { basketId: 'b-unknown' } },
      // Not remembered, so a real reserve of that basket still deducts.
      { name: 'reserve', input: { basketId: 'b-unknown', quantity: 2 } },
    ]);
    assert.deepEqual(out.results, [
      { released: 3 },
      { committed: 0 },
      { committed: 0 },
      { reserved: true, quantity: 2 },
    ]);
    assert.deepEqual(out.state, { available: 6, reservations: { 'b-unknown': 2 }, sold: 0, committed: [] });
  });

  it('a duplicate reserve after commit answers reserved without deducting again', async () => {
    const out = await run(state({ available: 4 }), [
      { name: 'reserve', input: { basketId: 'b-1', quantity: 3 } },
      { name: 'commit', input: { basketId: 'b-1' } },
      { name: 'reserve', input: { basketId: 'b-1', quantity: 3 } },
      // Even with less stock left than the basket wanted: the basket already has its units.
      { name: 'reserve', input: { basketId: 'b-1', quantity: 3 } },
      { name: 'release', input: { basketId: 'b-1' } },
    ]);
    assert.deepEqual(out.results.slice(2), [
      { reserved: true, quantity: 3 },
      { reserved: true, quantity: 3 },
      { released: 0 },
    ]);
    assert.deepEqual(out.state, { available: 1, reservations: {}, sold: 3, committed: ['b-1'] });
  });

  it(`remembers the last ${String(committedCapacity)} commits: the next one evicts the oldest`, async () => {
    const full = Array.from({ length: committedCapacity }, (_, i) => `old-${String(i)}`);
    const out = await run(state({ available: 10, reservations: { 'b-new': 1 }, sold: 256, committed: full }), [
      { name: 'commit', input: { basketId: 'b-new' } },
      // old-1 is still remembered: no deduction.
      { name: 'reserve', input: { basketId: 'old-1', quantity: 1 } },
      // old-0 was evicted: a late reserve for it is treated as new (the documented residual risk).
      { name: 'reserve', input: { basketId: 'old-0', quantity: 1 } },
    ]);
    assert.deepEqual(out.results, [{ committed: 1 }, { reserved: true, quantity: 1 }, { reserved: true, quantity: 1 }]);
    const after = inventoryStateSchema.parse(out.state);
    assert.equal(after.committed.length, committedCapacity);
    assert.equal(after.committed[0], 'old-1');
    assert.equal(after.committed.at(-1), 'b-new');
    assert.equal(after.available, 9);
    assert.deepEqual(after.reservations, { 'old-0': 1 });
  });

  it('keeps the state bounded however many baskets went through (reserve + commit each)', async () => {
    const sizes: number[] = [];
    let stored = state({ available: 1_000_000 });
    for (const batch of [0, 1, 2, 3, 4, 5]) {
      const ops = Array.from({ length: 200 }, (_, i) => `basket-${String(batch * 200 + i).padStart(6, '0')}`).flatMap(
        (basketId) => [
          { name: 'reserve', input: { basketId, quantity: 2 } },
          { name: 'commit', input: { basketId } },
        ],
      );
      const out = await run(stored, ops);
      assert.ok(out.rawState !== undefined);
      stored = out.rawState;
      sizes.push(stored.length);
    }
    const last = inventoryStateSchema.parse(JSON.parse(stored));
    assert.equal(last.sold, 2 * 1200);
    assert.equal(last.available, 1_000_000 - 2 * 1200);
    assert.deepEqual(last.reservations, {});
    assert.equal(last.committed.length, committedCapacity);
    assert.equal(last.committed.at(-1), 'basket-001199');
    // Once the ring is full (after 256 baskets) the stored size stops growing.
    assert.equal(new Set(sizes.slice(2)).size, 1, `sizes: ${sizes.join(', ')}`);
    assert.ok((sizes.at(-1) ?? Infinity) < 256 * 20, `sizes: ${sizes.join(', ')}`);
  });

  it('loads state saved before commit existed (no sold, no ring) and refuses a ring over its bound', async () => {
    const legacy = await run(JSON.stringify({ available: 5, reservations: { 'b-1': 3 } }), [
      { name: 'commit', input: { basketId: 'b-1' } },
    ]);
    assert.deepEqual(legacy.state, { available: 5, reservations: {}, sold: 3, committed: ['b-1'] });

    const oversized = state({ available: 5, committed: Array.from({ length: committedCapacity + 1 }, String) });
    const out = await run(oversized, [{ name: 'get' }]);
    assert.ok(z.object({ error: z.string() }).safeParse(out.results[0]).success);
  });
});
