import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { dependencyUnavailable, readJsonBody, validationProblem } from './http/problem';
import { restockInputSchema } from '../domain/stock';
import { inventoryEntityId, inventoryOperations, skuParamsSchema } from './inventory';

/** POST /api/inventory/{sku}/restock {"quantity": n} — adds stock by signalling the SKU's entity. */

export const restockInventoryName = 'restockInventory';

export function makeRestockInventory(): (
  request: HttpRequest,
  context: InvocationContext,
) => Promise<HttpResponseInit> {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const params = skuParamsSchema.safeParse(request.params);
    if (!params.success) return validationProblem(params.error, 'The SKU in the URL is invalid.');
    const body = await readJsonBody(request);
    if (!body.ok) return body.response;
    const parsed = restockInputSchema.safeParse(body.value);
    if (!parsed.success) return validationProblem(parsed.error, 'Send {"quantity": <whole number ≥ 1>}.');

    const { sku } = params.data;
    try {
      await df.getClient(context).signalEntity(inventoryEntityId(sku), inventoryOperations.restock, parsed.data);
    } catch (error) {
      return dependencyUnavailable(context, `Queueing the restock of ${sku}`, error);
    }
    context.log(`restockInventory: ${sku} +${String(parsed.data.quantity)} queued.`);
    // A signal is queued, not applied: the stock changes once the entity processes it.
    return { status: 202, jsonBody: { sku, quantity: parsed.data.quantity, statusUrl: `/api/inventory/${sku}` } };
  };
}

export const restockInventory = makeRestockInventory();

app.http(restockInventoryName, {
  route: 'inventory/{sku}/restock',
  methods: ['POST'],
  authLevel: 'admin',
  extraInputs: [df.input.durableClient()],
  handler: restockInventory,
});
