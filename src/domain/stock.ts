import { z } from 'zod';
import { basketIdSchema } from './events';

/**
 * Stock of one SKU: the rules the `inventory` entity (functions/inventory.ts) runs, one operation at
 * a time per SKU, so stock shared by many concurrent sessions is never double-spent.
 *
 * The state is bounded: O(baskets in flight + a constant). A reservation lives only while its
 * fulfillment is in flight; `commit` (sent once InventoryUpdated {reserved} is published) turns it
 * into `sold`, and `release` (the insufficient path) gives it back to `available`. Either way the
 * basket's entry leaves `reservations`, so per-operation cost no longer grows with every basket ever
 * sold.
 *
 * Idempotency: `reserve` for a basket with a reservation answers the same reservation. After a
 * commit, the basket id goes into `committed`, a ring of the last {@link committedCapacity} commits
 * of this SKU, and a late `reserve` for it answers "reserved" without deducting again. Durable already
 * de-duplicates an orchestration's entity messages and replays never re-send completed calls, so that
 * late reserve can only come from a fulfillment started afresh after its commit (its instance purged
 * or terminated, then restarted by a message of the still-Paid order). Residual risk, accepted for a
 * bounded state: such a restart arriving after more than 256 later commits of the same SKU deducts the
 * stock a second time (its InventoryUpdated is then a duplicate the order ignores).
 */

export const stockOperations = {
  reserve: 'reserve',
  commit: 'commit',
  release: 'release',
  restock: 'restock',
  get: 'get',
} as const;

/** How many committed basket ids each SKU remembers (see the residual risk above). */
export const committedCapacity = 256;

/*
 * Stored data, so it is parsed, but cheaply: the ring holds plain strings (the ids were validated on
 * the way in), and the two fields added with commit default so state saved by the previous version
 * still loads.
 */
export const inventoryStateSchema = z.strictObject({
  available: z.number().int().min(0),
  /** basketId → quantity reserved for a fulfillment still in flight. */
  reservations: z.record(z.string(), z.number().int().min(1)),
  /** Units whose reservation was committed (stock that left for good). */
  sold: z.number().int().min(0).default(0),
  /** The last committed basket ids, oldest first, at most {@link committedCapacity}. */
  committed: z.array(z.string()).max(committedCapacity).default([]),
});
export type InventoryState = z.infer<typeof inventoryStateSchema>;

export function initialInventoryState(available: number): InventoryState {
  return { available, reservations: {}, sold: 0, committed: [] };
}

export const reserveInputSchema = z.strictObject({
  basketId: basketIdSchema,
  quantity: z.number().int().min(1).max(1_000_000),
});
export const basketInputSchema = z.strictObject({ basketId: basketIdSchema });
export const restockInputSchema = z.strictObject({ quantity: z.number().int().min(1).max(1_000_000_000) });

export const reserveResultSchema = z.discriminatedUnion('reserved', [
  z.strictObject({ reserved: z.literal(true), quantity: z.number().int() }),
  z.strictObject({ reserved: z.literal(false), available: z.number().int().min(0) }),
]);
export type ReserveResult = z.infer<typeof reserveResultSchema>;

export const releaseResultSchema = z.strictObject({ released: z.number().int().min(0) });

export function reserve(
  state: InventoryState,
  basketId: string,
  quantity: number,
): { state: InventoryState; result: ReserveResult } {
  const existing = state.reservations[basketId];
  if (existing !== undefined) return { state, result: { reserved: true, quantity: existing } };
  // Already sold to this basket: the same fulfillment asking again, never a second sale.
  if (state.committed.includes(basketId)) return { state, result: { reserved: true, quantity } };
  if (state.available < quantity) return { state, result: { reserved: false, available: state.available } };
  return {
    state: {
      ...state,
      available: state.available - quantity,
      reservations: { ...state.reservations, [basketId]: quantity },
    },
    result: { reserved: true, quantity },
  };
}

export function release(state: InventoryState, basketId: string): { state: InventoryState; released: number } {
  const existing = state.reservations[basketId];
  if (existing === undefined) return { state, released: 0 };
  const { [basketId]: _released, ...rest } = state.reservations;
  return { state: { ...state, available: state.available + existing, reservations: rest }, released: existing };
}

/** Appends to the ring, dropping the oldest ids beyond the capacity. */
export function remember(ring: readonly string[], basketId: string, capacity = committedCapacity): string[] {
  const keep = Math.max(0, capacity - 1);
  return [...(ring.length > keep ? ring.slice(ring.length - keep) : ring), basketId];
}

/**
 * The basket's reservation becomes a sale: stock stays deducted, the entry leaves `reservations`.
 * Nothing to commit (already committed, released, or never reserved) changes nothing — in particular
 * an unknown basket is not remembered, so it can never make a later reserve skip its deduction.
 */
export function commit(
  state: InventoryState,
  basketId: string,
  capacity = committedCapacity,
): { state: InventoryState; committed: number } {
  const existing = state.reservations[basketId];
  if (existing === undefined) return { state, committed: 0 };
  const { [basketId]: _committed, ...rest } = state.reservations;
  return {
    state: {
      available: state.available,
      reservations: rest,
      sold: state.sold + existing,
      committed: remember(state.committed, basketId, capacity),
    },
    committed: existing,
  };
}

export function restock(state: InventoryState, quantity: number): InventoryState {
  return { ...state, available: state.available + quantity };
}

/**
 * One stock operation as the entity receives it: the operation's name and its (unparsed) input.
 * Returns the next state and the operation's answer; bad input throws the schema's error naming the
 * field, an unknown operation throws naming it (the entity reports either as an operation error).
 */
export function applyStockOperation(
  state: InventoryState,
  operationName: string | undefined,
  input: unknown,
): { state: InventoryState; result: unknown } {
  switch (operationName) {
    case stockOperations.reserve: {
      const { basketId, quantity } = reserveInputSchema.parse(input);
      return reserve(state, basketId, quantity);
    }
    case stockOperations.commit: {
      const outcome = commit(state, basketInputSchema.parse(input).basketId);
      return { state: outcome.state, result: { committed: outcome.committed } };
    }
    case stockOperations.release: {
      const outcome = release(state, basketInputSchema.parse(input).basketId);
      return { state: outcome.state, result: { released: outcome.released } };
    }
    case stockOperations.restock: {
      const next = restock(state, restockInputSchema.parse(input).quantity);
      return { state: next, result: next };
    }
    case stockOperations.get:
      return { state, result: state };
    default:
      throw new Error(`The inventory entity has no operation "${String(operationName)}".`);
  }
}
