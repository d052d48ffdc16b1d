import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import type { BasketListing } from '../adapters/consolePorts';
import { basketListing } from '../consoleDependencies';
import { orderStatuses } from '../domain/orderRecord';
import { pagingQuery, pagingSchema, readFailed } from './console/paging';
import { validationProblem } from './http/problem';
import { registerHttp } from './http/routeTable';

/**
 * GET /api/console/baskets?status=&limit=&continuation= — baskets from the orders table's plain
 * columns (status, lastAppliedSequence), one server page per request: never the records' JSON,
 * never more than `limit` rows.
 */

export const consoleBasketsName = 'consoleBaskets';

export interface ConsoleBasketsDeps {
  basketListing: () => BasketListing;
}

const querySchema = pagingSchema.extend({
  status: z.enum(orderStatuses, { error: `status must be one of ${orderStatuses.join(', ')}` }).optional(),
});

export type ConsoleBasketsHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

export function makeConsoleBaskets(deps: ConsoleBasketsDeps): ConsoleBasketsHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const query = querySchema.safeParse({ ...pagingQuery(request), status: request.query.get('status') ?? undefined });
    if (!query.success) return validationProblem(query.error);
    const { status, limit, continuation } = query.data;
    try {
      const page = await deps.basketListing().list(status, limit, continuation);
      return {
        status: 200,
        jsonBody: {
          items: page.items,
          ...(page.continuation === undefined ? {} : { continuation: page.continuation }),
          rowsRead: page.rowsRead,
        },
      };
    } catch (error) {
      return readFailed(context, 'Listing baskets', error);
    }
  };
}

export const consoleBaskets = makeConsoleBaskets({ basketListing });

registerHttp(consoleBasketsName, {
  route: 'console/baskets',
  methods: ['GET'],
  authLevel: 'function',
  handler: consoleBaskets,
});
