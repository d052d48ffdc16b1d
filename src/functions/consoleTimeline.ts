import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';
import type { FulfillmentStatusReader } from '../adapters/consolePorts';
import { fulfillmentStatusReaderFor } from '../adapters/durableFulfillmentStatus';
import { UnreadableRecordError, type DeadLetterQueue, type OrderStore, type QuarantineStore } from '../adapters/ports';
import { deadLettersForViews, now, orderStore, quarantineStore } from '../dependencies';
import { basketIdSchema } from '../domain/events';
import { errorText } from '../errors';
import { quarantineScan } from './console/stuckScan';
import { buildTimeline } from './console/timeline';
import { dependencyUnavailable, notFoundProblem, unavailableProblem, validationProblem } from './http/problem';
import { defaultDeadLetterScan } from './listDeadLetters';

/**
 * GET /api/console/baskets/{basketId}/timeline — the basket's whole story on one screen: each event
 * published, enqueued, applied (delivery count) or parked / duplicate / rejected, its dead letters
 * and quarantined messages, the fulfillment's steps and the stock it reserved. Reads one order, one
 * bounded look at the dead letters and the quarantine, and one orchestration status.
 */

export const consoleTimelineName = 'consoleTimeline';

export interface ConsoleTimelineDeps {
  orderStore: () => OrderStore;
  deadLetters: () => DeadLetterQueue;
  quarantineStore: () => QuarantineStore;
  fulfillmentStatusFor: (context: InvocationContext) => FulfillmentStatusReader;
  now: () => Date;
}

const paramsSchema = z.object({ basketId: basketIdSchema });

export type ConsoleTimelineHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

export function makeConsoleTimeline(deps: ConsoleTimelineDeps): ConsoleTimelineHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const params = paramsSchema.safeParse(request.params);
    if (!params.success) return validationProblem(params.error, 'The basket id in the path is invalid.');
    const { basketId } = params.data;
    const readAt = deps.now().toISOString();
    const warnings: string[] = [];
    const soft =
      <T>(what: string, fallback: T) =>
      (error: unknown): T => {
        warnings.push(`${what} could not be read: ${errorText(error)}`);
        return fallback;
      };
    const deadLetters = deps
      .deadLetters()
      .peek(basketId, defaultDeadLetterScan)
      .catch(soft('The dead-letter queue', undefined));
    const quarantined = deps.quarantineStore().list(quarantineScan).catch(soft('The quarantine', []));
    const fulfillment = deps
      .fulfillmentStatusFor(context)
      .status(basketId, true)
      .catch(soft('The fulfillment orchestration', undefined));
    let record;
    try {
      record = (await deps.orderStore().get(basketId))?.record;
    } catch (error) {
      if (error instanceof UnreadableRecordError)
        return unavailableProblem(`${error.message}. An operator must repair or remove the row.`);
      return dependencyUnavailable(context, `Reading order ${basketId}`, error);
    }
    const [scan, messages, view] = await Promise.all([deadLetters, quarantined, fulfillment]);
    const letters = scan?.messages ?? [];
    const ours = messages.filter((message) => message.sessionId === basketId);
    if (record === undefined && letters.length === 0 && ours.length === 0) {
      return notFoundProblem(`No order ${basketId}, and none of its messages is dead-lettered or quarantined.`);
    }
    const timeline = buildTimeline({
      basketId,
      record,
      deadLetters: letters,
      quarantined: ours,
      fulfillment: view,
      readAt,
    });
    const rowsRead = (record === undefined ? 0 : 1) + (scan?.scanned ?? 0) + messages.length;
    return {
      status: 200,
      jsonBody: { ...timeline, rowsRead, ...(warnings.length === 0 ? {} : { warnings }) },
    };
  };
}

export const consoleTimeline = makeConsoleTimeline({
  orderStore,
  deadLetters: deadLettersForViews,
  quarantineStore,
  fulfillmentStatusFor: fulfillmentStatusReaderFor,
  now,
});

app.http(consoleTimelineName, {
  route: 'console/baskets/{basketId}/timeline',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: consoleTimeline,
});
