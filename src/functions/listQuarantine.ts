import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import type { QuarantineStore } from '../adapters/ports';
import { quarantineStore } from '../dependencies';
import { dependencyUnavailable, validationProblem } from './http/problem';
import { registerHttp } from './http/routeTable';

/**
 * GET /api/quarantine?limit=N — messages no order could own (no usable basket id, or a session
 * mismatch). POST /api/quarantine/{messageId}/replay (replayQuarantined) applies one once fixed.
 */

export const listQuarantineName = 'listQuarantine';
export const defaultQuarantineLimit = 100;
export const maxQuarantineLimit = 1000;

export interface ListQuarantineDeps {
  quarantineStore: () => QuarantineStore;
}

const querySchema = z.object({
  limit: z
    .string()
    .regex(/^\d+$/, 'limit must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(maxQuarantineLimit))
    .optional(),
});

/** An HttpHandler whose response tests can read without narrowing. */
export type ListQuarantineHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

export function makeListQuarantine(deps: ListQuarantineDeps): ListQuarantineHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const query = querySchema.safeParse({ limit: request.query.get('limit') ?? undefined });
    if (!query.success) return validationProblem(query.error, `limit must be between 1 and ${maxQuarantineLimit}.`);
    const limit = query.data.limit ?? defaultQuarantineLimit;

    try {
      const messages = await deps.quarantineStore().list(limit);
      return { status: 200, jsonBody: { count: messages.length, limit, messages } };
    } catch (error) {
      return dependencyUnavailable(context, 'Listing quarantined messages', error);
    }
  };
}

export const listQuarantine = makeListQuarantine({ quarantineStore });

registerHttp(listQuarantineName, {
  route: 'quarantine',
  methods: ['GET'],
  authLevel: 'function',
  handler: listQuarantine,
});
