import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { UnreadableRecordError, type DeadLetterQueue, type OrderStore, type StoredOrder } from '../adapters/ports';
import { deadLettersForViews, orderStore } from '../dependencies';
import { basketIdSchema } from '../domain/events';
import { errorText } from '../errors';
import { dependencyUnavailable, notFoundProblem, unavailableProblem, validationProblem } from './http/problem';
import { orderView, type DeadLetterCheck } from './http/orderView';
import { defaultDeadLetterScan } from './listDeadLetters';

/**
 * GET /api/orders/{basketId} — where a basket's convoy stands: state, applied log, parked, rejected,
 * and which of its messages sit in the dead-letter queue.
 */

export const getOrderName = 'getOrder';

export interface GetOrderDeps {
  orderStore: () => OrderStore;
  deadLetters: () => DeadLetterQueue;
}

const paramsSchema = z.object({ basketId: basketIdSchema });

/** An HttpHandler whose response tests can read without narrowing. */
export type GetOrderHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

export function makeGetOrder(deps: GetOrderDeps): GetOrderHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const params = paramsSchema.safeParse(request.params);
    if (!params.success) return validationProblem(params.error, 'The basket id in the path is invalid.');
    const { basketId } = params.data;

    const deadLetters = checkDeadLetters(deps, basketId);
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
    const check = await deadLetters;
    if (stored === undefined) {
      if (check.ok && check.messages.length > 0) {
        const sequences = check.messages.map((letter) => letter.sequence ?? `#${letter.serviceSequenceNumber}`);
        return notFoundProblem(
          `No order ${basketId} yet, but ${String(check.messages.length)} of its messages sit in the dead-letter queue (sequences ${sequences.join(', ')}): GET /api/dead-letters/${basketId} says why; POST /api/dead-letters/${basketId}/replay applies them.`,
        );
      }
      return notFoundProblem(
        `No order ${basketId} yet: no event of that basket has been processed. Check the basket id, or retry once its events are consumed.`,
      );
    }
    return { status: 200, jsonBody: orderView(stored.record, check) };
  };
}

/** Never throws: the record is worth showing even when the broker cannot be asked. */
async function checkDeadLetters(deps: GetOrderDeps, basketId: string): Promise<DeadLetterCheck> {
  try {
    const scan = await deps.deadLetters().peek(basketId, defaultDeadLetterScan);
    return { ok: true, ...scan };
  } catch (error) {
    return { ok: false, error: `The dead-letter queue could not be read: ${errorText(error)}` };
  }
}

export const getOrder = makeGetOrder({ orderStore, deadLetters: deadLettersForViews });

app.http(getOrderName, {
  route: 'orders/{basketId}',
  methods: ['GET'],
  authLevel: 'function',
  handler: getOrder,
});
