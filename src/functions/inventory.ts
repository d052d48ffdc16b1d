import * as df from 'durable-functions';
import type { EntityContext, EntityHandler } from 'durable-functions';
import { z } from 'zod';
import { getConfig } from '../config';
import { skuSchema } from '../domain/events';
import {
  applyStockOperation,
  initialInventoryState,
  inventoryStateSchema,
  stockOperations,
  type InventoryState,
} from '../domain/stock';

/**
 * The `inventory` entity, one per SKU (entity key = SKU): durable-functions runs one operation at a
 * time per key; the stock rules themselves are pure, in domain/stock.ts.
 */

export const inventoryEntityName = 'inventory';
export const inventoryOperations = stockOperations;

/** Route parameters of the inventory HTTP functions. */
export const skuParamsSchema = z.object({ sku: skuSchema });

export function inventoryEntityId(sku: string): df.EntityId {
  return new df.EntityId(inventoryEntityName, skuSchema.parse(sku));
}

export interface InventoryDeps {
  /** Stock of a SKU the entity has never seen (config DEFAULT_STOCK_PER_SKU). */
  defaultStock: () => number;
}

export function makeInventoryEntity(deps: InventoryDeps): EntityHandler<InventoryState> {
  return (context: EntityContext<InventoryState>) => {
    const stored: unknown = context.df.getState(() => initialInventoryState(deps.defaultStock()));
    const outcome = applyStockOperation(
      inventoryStateSchema.parse(stored),
      context.df.operationName,
      context.df.getInput(),
    );
    context.df.setState(outcome.state);
    context.df.return(outcome.result);
  };
}

export const inventoryEntity = makeInventoryEntity({ defaultStock: () => getConfig().defaultStockPerSku });

df.app.entity(inventoryEntityName, inventoryEntity);
