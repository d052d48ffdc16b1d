import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import type { DeadLetterQueue } from '../adapters/ports';
import { deadLetterQueue } from '../dependencies';
import { basketIdSchema } from '../domain/events';
import { dependencyUnavailable, validationProblem } from './http/problem';
import { maxDeadLetterScan } from './listDeadLetters';
import { registerHttp } from './http/routeTable';

/** GET /api/dead-letters/{basketId} — one basket's messages in the order-events dead-letter queue. */

export const listBasketDeadLettersName = 'listBasketDeadLetters';

export interface ListBasketDeadLettersDeps {
  deadLetters: () => DeadLetterQueue;
}

const paramsSchema = z.object({ basketId: basketIdSchema });

export type ListBasketDeadLettersHandler = (
  request: HttpRequest,
  context: InvocationContext,
) => Promise<HttpResponseInit>;

export function makeListBasketDeadLetters(deps: ListBasketDeadLettersDeps): ListBasketDeadLettersHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const params = paramsSchema.safeParse(request.params);
    if (!params.success) return validationProblem(params.error, 'The basket id in the path is invalid.');
    const { basketId } = params.data;
    try {
      const found = await deps.deadLetters().peek(basketId, maxDeadLetterScan);
      return {
        status: 200,
        jsonBody: {
          basketId,
          scanned: found.scanned,
          complete: found.complete,
          count: found.messages.length,
          messages: found.messages,
        },
      };
    } catch (error) {
      return dependencyUnavailable(context, `Peeking at the dead letters of basket ${basketId}`, error);
    }
  };
}

export const listBasketDeadLetters = makeListBasketDeadLetters({ deadLetters: deadLetterQueue });

registerHttp(listBasketDeadLettersName, {
  route: 'dead-letters/{basketId}',
  methods: ['GET'],
  authLevel: 'function',
  handler: listBasketDeadLetters,
});
