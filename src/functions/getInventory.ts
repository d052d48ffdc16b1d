import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { getConfig } from '../config';
import { dependencyUnavailable, unavailableProblem, validationProblem } from './http/problem';
import { inventoryStateSchema } from '../domain/stock';
import { inventoryEntityId, skuParamsSchema } from './inventory';

/**
 * GET /api/inventory/{sku} — the SKU's stock as its entity last saved it: `available`, `reserved`
 * (units held by fulfillments in flight, over `reservations` baskets) and `sold` (committed units).
 * A SKU never touched has the configured default stock (the entity starts from it on first use).
 */

export const getInventoryName = 'getInventory';

export interface GetInventoryDeps {
  defaultStock: () => number;
}

export function makeGetInventory(
  deps: GetInventoryDeps,
): (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit> {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const params = skuParamsSchema.safeParse(request.params);
    if (!params.success) return validationProblem(params.error, 'The SKU in the URL is invalid.');
    const { sku } = params.data;

    let response: df.EntityStateResponse<unknown>;
    try {
      response = await df.getClient(context).readEntityState<unknown>(inventoryEntityId(sku));
    } catch (error) {
      return dependencyUnavailable(context, `Reading the stock of ${sku}`, error);
    }
    if (!response.entityExists) {
      return {
        status: 200,
        jsonBody: { sku, available: deps.defaultStock(), reserved: 0, reservations: 0, sold: 0, initialized: false },
      };
    }
    const state = inventoryStateSchema.safeParse(response.entityState);
    if (!state.success) {
      context.error(`getInventory: the stored state of ${sku} does not match the schema: ${state.error.message}`);
      return unavailableProblem(`The stored stock of ${sku} cannot be read; an operator must look at the entity.`);
    }
    const quantities = Object.values(state.data.reservations);
    return {
      status: 200,
      jsonBody: {
        sku,
        available: state.data.available,
        reserved: quantities.reduce((sum, q) => sum + q, 0),
        reservations: quantities.length,
        sold: state.data.sold,
        initialized: true,
      },
    };
  };
}

export const getInventory = makeGetInventory({ defaultStock: () => getConfig().defaultStockPerSku });

app.http(getInventoryName, {
  route: 'inventory/{sku}',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: getInventory,
});
