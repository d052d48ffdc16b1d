import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import type { DeadLetter, DeadLetterQueue } from '../adapters/ports';
import { deadLetterQueue } from '../dependencies';
import { dependencyUnavailable, validationProblem } from './http/problem';
import { registerHttp } from './http/routeTable';

/** GET /api/dead-letters?scan=N — the order-events dead-letter queue, grouped by basket (session id). */

export const listDeadLettersName = 'listDeadLetters';
export const defaultDeadLetterScan = 1000;
export const maxDeadLetterScan = 5000;

export interface ListDeadLettersDeps {
  deadLetters: () => DeadLetterQueue;
}

const querySchema = z.object({
  scan: z
    .string()
    .regex(/^\d+$/, 'scan must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(maxDeadLetterScan))
    .optional(),
});

export type ListDeadLettersHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/** Baskets in id order; messages without a session id are grouped under `basketId: null`. */
function byBasket(messages: DeadLetter[]): { basketId: string | null; count: number; messages: DeadLetter[] }[] {
  const groups = new Map<string | null, DeadLetter[]>();
  for (const message of messages) {
    const key = message.sessionId ?? null;
    const group = groups.get(key) ?? [];
    group.push(message);
    groups.set(key, group);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a ?? '').localeCompare(b ?? ''))
    .map(([basketId, group]) => ({ basketId, count: group.length, messages: group }));
}

export function makeListDeadLetters(deps: ListDeadLettersDeps): ListDeadLettersHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const query = querySchema.safeParse({ scan: request.query.get('scan') ?? undefined });
    if (!query.success) return validationProblem(query.error, `scan must be between 1 and ${maxDeadLetterScan}.`);
    const scan = query.data.scan ?? defaultDeadLetterScan;
    try {
      const found = await deps.deadLetters().peek(undefined, scan);
      return {
        status: 200,
        jsonBody: {
          scanned: found.scanned,
          complete: found.complete,
          count: found.messages.length,
          baskets: byBasket(found.messages),
        },
      };
    } catch (error) {
      return dependencyUnavailable(context, 'Peeking at the dead-letter queue', error);
    }
  };
}

export const listDeadLetters = makeListDeadLetters({ deadLetters: deadLetterQueue });

registerHttp(listDeadLettersName, {
  route: 'dead-letters',
  methods: ['GET'],
  authLevel: 'function',
  handler: listDeadLetters,
});
