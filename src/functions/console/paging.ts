import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { BadContinuationError } from '../../adapters/consolePorts';
import { dependencyUnavailable, problem } from '../http/problem';

/** `limit` and `continuation` of the console's paged views, parsed at the edge. */

export const maxPageLimit = 200;
export const defaultPageLimit = 50;

export const pagingSchema = z.object({
  limit: z
    .string()
    .regex(/^\d+$/, 'limit must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(maxPageLimit))
    .default(defaultPageLimit),
  continuation: z.string().min(1).max(2048).optional(),
});

export function pagingQuery(request: HttpRequest): Record<string, string | undefined> {
  return {
    limit: request.query.get('limit') ?? undefined,
    continuation: request.query.get('continuation') ?? undefined,
  };
}

/** A continuation this API did not hand out is the caller's error (400); anything else is the store's (503). */
export function readFailed(context: InvocationContext, action: string, error: unknown): HttpResponseInit {
  if (error instanceof BadContinuationError) {
    return problem({ status: 400, type: 'validation', title: 'Invalid request', detail: error.message });
  }
  return dependencyUnavailable(context, action, error);
}
