import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { UnreadableRecordError, type OrderStore, type StoredOrder } from '../../adapters/ports';
import { basketIdSchema } from '../../domain/events';
import { dependencyUnavailable, unavailableProblem, validationProblem } from './problem';

/** What a view of one basket reads first: its id from the route, then its order; or the answer that ends the request. */
export type ViewRead<T> = { ok: true; value: T } | { ok: false; response: HttpResponseInit };

const paramsSchema = z.object({ basketId: basketIdSchema });

/** The `{basketId}` route parameter, or 400 naming the rule it breaks. */
export function basketIdParam(request: HttpRequest): ViewRead<string> {
  const params = paramsSchema.safeParse(request.params);
  if (!params.success) {
    return { ok: false, response: validationProblem(params.error, 'The basket id in the path is invalid.') };
  }
  return { ok: true, value: params.data.basketId };
}

/**
 * The basket's order as the views (GET /api/orders/{id}, the console's timeline) read it: undefined
 * when there is none yet; 503 when the store fails, naming the operator when the row is unreadable
 * (retrying cannot help there).
 */
export async function readOrderForView(
  store: OrderStore,
  basketId: string,
  context: InvocationContext,
): Promise<ViewRead<StoredOrder | undefined>> {
  try {
    return { ok: true, value: await store.get(basketId) };
  } catch (error) {
    if (!(error instanceof UnreadableRecordError)) {
      return { ok: false, response: dependencyUnavailable(context, `Reading order ${basketId}`, error) };
    }
    context.error(`${context.functionName}: ${error.message}`);
    return {
      ok: false,
      response: unavailableProblem(
        `${error.message}. An operator must repair or remove the row; retrying will not help.`,
      ),
    };
  }
}
