import * as df from 'durable-functions';
import type { EntityContext, EntityHandler } from 'durable-functions';
import { z } from 'zod';
import { getConfig } from '../config';
import { basketIdSchema, skuSchema } from '../domain/events';

/**
 * The `inventory` entity, one per SKU (entity key = SKU). Entities run one operation at a time per
 * key, so stock shared by many concurrent sessions is never double-spent. Reservations are kept per
 * basket, which makes `reserve` idempotent: a replayed or restarted fulfillment gets the same answer
 * instead of reserving twice.
 */

export const inventoryEntityName = 'inventory';
export const inventoryOperations = { reserve: 'reserve', release: 'release', restock: 'restock', get: 'get' } as const;

export const inventoryStateSchema = z.strictObject({
  available: z.number().int().min(0),
  /** basketId → quantity reserved for it. */
  reservations: z.record(z.string(), z.number().int().min(1)),
});
export type InventoryState = z.infer<typeof inventoryStateSchema>;

/** Route parameters of the inventory HTTP functions. */
export const skuParamsSchema = z.object({ sku: skuSchema });

export const reserveInputSchema = z.strictObject({
  basketId: basketIdSchema,
  quantity: z.number().int().min(1).max(1_000_000),
});
export const releaseInputSchema = z.strictObject({ basketId: basketIdSchema });
export const restockInputSchema = z.strictObject({ quantity: z.number().int().min(1).max(1_000_000_000) });

export const reserveResultSchema = z.discriminatedUnion('reserved', [
  z.strictObject({ reserved: z.literal(true), quantity: z.number().int() }),
  z.strictObject({ reserved: z.literal(false), available: z.number().int().min(0) }),
]);
export type ReserveResult = z.infer<typeof reserveResultSchema>;

export const releaseResultSchema = z.strictObject({ released: z.number().int().min(0) });

export function inventoryEntityId(sku: string): df.EntityId {
  return new df.EntityId(inventoryEntityName, skuSchema.parse(sku));
}

export function reserve(
  state: InventoryState,
  basketId: string,
  quantity: number,
): { state: InventoryState; result: ReserveResult } {
  const existing = state.reservations[basketId];
  if (existing !== undefined) return { state, result: { reserved: true, quantity: existing } };
  if (state.available < quantity) return { state, result: { reserved: false, available: state.available } };
  return {
    state: { available: state.available - quantity, reservations: { ...state.reservations, [basketId]: quantity } },
    result: { reserved: true, quantity },
  };
}

export function release(state: InventoryState, basketId: string): { state: InventoryState; released: number } {
  const existing = state.reservations[basketId];
  if (existing === undefined) return { state, released: 0 };
  const { [basketId]: _released, ...rest } = state.reservations;
  return { state: { available: state.available + existing, reservations: rest }, released: existing };
}

export interface InventoryDeps {
  /** Stock of a SKU the entity has never seen (config DEFAULT_STOCK_PER_SKU). */
  defaultStock: () => number;
}

export function makeInventoryEntity(deps: InventoryDeps): EntityHandler<InventoryState> {
  return (context: EntityContext<InventoryState>) => {
    const stored: unknown = context.df.getState(() => ({ available: deps.defaultStock(), reservations: {} }));
    const state = inventoryStateSchema.parse(stored);
    const input: unknown = context.df.getInput();
    switch (context.df.operationName) {
      case inventoryOperations.reserve: {
        const { basketId, quantity } = reserveInputSchema.parse(input);
        const outcome = reserve(state, basketId, quantity);
        context.df.setState(outcome.state);
        context.df.return(outcome.result);
        return;
      }
      case inventoryOperations.release: {
        const { basketId } = releaseInputSchema.parse(input);
        const outcome = release(state, basketId);
        context.df.setState(outcome.state);
        context.df.return({ released: outcome.released });
        return;
      }
      case inventoryOperations.restock: {
        const { quantity } = restockInputSchema.parse(input);
        const next = { ...state, available: state.available + quantity };
        context.df.setState(next);
        context.df.return(next);
        return;
      }
      case inventoryOperations.get:
        context.df.setState(state);
        context.df.return(state);
        return;
      default:
        throw new Error(`The inventory entity has no operation "${String(context.df.operationName)}".`);
    }
  };
}

export const inventoryEntity = makeInventoryEntity({ defaultStock: () => getConfig().defaultStockPerSku });

df.app.entity(inventoryEntityName, inventoryEntity);
