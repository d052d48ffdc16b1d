import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { UnreadableRecordError, type OrderStore, type StoredOrder } from '../adapters/ports';
import { orderStore } from '../dependencies';
import { basketIdSchema } from '../domain/events';
import { dependencyUnavailable, notFoundProblem, unavailableProblem, validationProblem } from './http/problem';
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

    let stored: StoredOrder | undefined;
    try {
      stored = await deps.orderStore().get(basketId);
    } catch (error) {
      if (error instanceof UnreadableRecordError) {
        // Retrying cannot help here: say who must act.
        context.error(`${getOrderName}: ${error.message}`);
        return unavailableProblem(
          `${error.message}. An operator must repair or remove the row; retrying will not help.`,
        );
      }
      return dependencyUnavailable(context, `Reading order ${basketId}`, error);
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
