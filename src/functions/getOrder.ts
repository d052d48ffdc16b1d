import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { z } from 'zod';
import type { OrderStore } from '../adapters/ports';
import { orderStore } from '../dependencies';
import { basketIdSchema } from '../domain/events';
import { notFoundProblem, unavailableProblem, validationProblem } from './http/problem';
import { orderView } from './http/orderView';

/** GET /api/orders/{basketId} — where a basket's convoy stands: state, applied log, parked, rejected. */

export const getOrderName = 'getOrder';

export interface GetOrderDeps {
  orderStore: () => OrderStore;
}

const paramsSchema = z.object({ basketId: basketIdSchema });

/** An HttpHandler whose response tests can read without narrowing. */
export type GetOrderHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

export function makeGetOrder(deps: GetOrderDeps): GetOrderHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const params = paramsSchema.safeParse(request.params);
    if (!params.success) return validationProblem(params.error, 'The basket id in the path is invalid.');
    const { basketId } = params.data;

    let stored;
    try {
      stored = await deps.orderStore().get(basketId);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      context.error(`${getOrderName}: reading order ${basketId} failed: ${reason}`);
      return unavailableProblem(`Reading order ${basketId} failed (${reason}); retry the request.`);
    }
    if (stored === undefined) {
      return notFoundProblem(
        `No order ${basketId} yet: no event of that basket has been processed. Check the basket id, or retry once its events are consumed.`,
      );
    }
    return { status: 200, jsonBody: orderView(stored.record) };
  };
}

export const getOrder = makeGetOrder({ orderStore });

app.http(getOrderName, {
  route: 'orders/{basketId}',
  methods: ['GET'],
  authLevel: 'function',
  handler: getOrder,
});
