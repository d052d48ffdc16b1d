import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';
import { fulfillmentStarterFor } from '../adapters/durableFulfillment';
import type { DeadLetterQueue, FulfillmentStarter, OrderStore, QuarantineStore } from '../adapters/ports';
import { getConfig } from '../config';
import { orderProgress } from '../consoleDependencies';
import type { OrderProgressSink } from '../adapters/consoleProjection';
import { deadLetterQueue, now, orderStore, quarantineStore } from '../dependencies';
import { basketIdSchema } from '../domain/events';
import { replayBasketDeadLetters } from '../application/replay';
import { dependencyUnavailable, validationProblem } from './http/problem';

/**
 * POST /api/dead-letters/{basketId}/replay — applies the basket's dead-lettered events through the
 * convoy core in sequence order and removes each from the dead-letter queue once its order recorded
 * it. 200 with one entry per message; `remaining` > 0 says some stay, each with why.
 */

export const replayDeadLettersName = 'replayDeadLetters';

export interface ReplayDeadLettersDeps {
  orderStore: () => OrderStore;
  quarantineStore: () => QuarantineStore;
  deadLetters: () => DeadLetterQueue;
  fulfillmentStarterFor: (context: InvocationContext) => FulfillmentStarter;
  now: () => Date;
  maxParkedEvents: () => number;
  progress?: () => OrderProgressSink;
}

const paramsSchema = z.object({ basketId: basketIdSchema });

export type ReplayDeadLettersHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

export function makeReplayDeadLetters(deps: ReplayDeadLettersDeps): ReplayDeadLettersHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const params = paramsSchema.safeParse(request.params);
    if (!params.success) return validationProblem(params.error, 'The basket id in the path is invalid.');
    const { basketId } = params.data;
    try {
      const replay = await replayBasketDeadLetters(
        { ...deps, fulfillmentStarter: () => deps.fulfillmentStarterFor(context) },
        basketId,
        context,
        replayDeadLettersName,
      );
      return { status: 200, jsonBody: replay };
    } catch (error) {
      return dependencyUnavailable(context, `Replaying the dead letters of basket ${basketId}`, error);
    }
  };
}

export const replayDeadLetters = makeReplayDeadLetters({
  orderStore,
  quarantineStore,
  deadLetters: deadLetterQueue,
  fulfillmentStarterFor,
  now,
  maxParkedEvents: () => getConfig().maxParkedEvents,
  progress: orderProgress,
});

app.http(replayDeadLettersName, {
  route: 'dead-letters/{basketId}/replay',
  methods: ['POST'],
  authLevel: 'admin',
  extraInputs: [df.input.durableClient()],
  handler: replayDeadLetters,
});
