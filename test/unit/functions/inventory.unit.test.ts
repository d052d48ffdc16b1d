import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { InvocationContext } from '@azure/functions';
import { DummyEntityContext, EntityId } from 'durable-functions';
import { z } from 'zod';
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
    assert.deepEqual(out.state, { available: 5, reservations: { 'b-1': 3, 'b-2': 2 } });
  });

  it('refuses a reservation larger than what is available and says how much is', async () => {
    const out = await run(JSON.stringify({ available: 2, reservations: {} }), [
      { name: 'reserve', input: { basketId: 'b-3', quantity: 5 } },
    ]);
    assert.deepEqual(out.results, [{ reserved: false, available: 2 }]);
    assert.deepEqual(out.state, { available: 2, reservations: {} });
  });

  it('releases a basket once (a second release returns nothing), and restock adds stock', async () => {
    const out = await run(JSON.stringify({ available: 5, reservations: { 'b-1': 3 } }), [
      { name: 'release', input: { basketId: 'b-1' } },
      { name: 'release', input: { basketId: 'b-1' } },
      { name: 'restock', input: { quantity: 100 } },
      { name: 'get' },
    ]);
    assert.deepEqual(out.results.slice(0, 2), [{ released: 3 }, { released: 0 }]);
    assert.deepEqual(out.results[3], { available: 108, reservations: {} });
    assert.deepEqual(out.state, { available: 108, reservations: {} });
  });

  it('reports bad input and unknown operations as operation errors, leaving the state unchanged', async () => {
    const state = JSON.stringify({ available: 5, reservations: {} });
    const out = await run(state, [{ name: 'reserve', input: { basketId: 'b-1', quantity: -1 } }, { name: 'steal' }]);
    assert.equal(out.results.length, 2);
    for (const result of out.results)
      assert.ok(z.object({ error: z.string() }).safeParse(result).success, JSON.stringify(result));
    assert.equal(out.rawState, state);
  });
});
