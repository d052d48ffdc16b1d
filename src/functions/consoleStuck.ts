import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { FulfillmentStatusReader } from '../adapters/consolePorts';
import { fulfillmentStatusReaderFor } from '../adapters/durableFulfillmentStatus';
import { getConfig } from '../config';
import { inFlightIndex } from '../consoleDependencies';
import { deadLettersForViews, now, orderStore, quarantineStore } from '../dependencies';
import { pagingQuery, pagingSchema, readFailed } from './console/paging';
import { scanStuckPage, StuckEvidence, type StuckScanDeps } from './console/stuckScan';
import { validationProblem } from './http/problem';
import { registerHttp } from './http/routeTable';

/**
 * GET /api/console/stuck?limit=&continuation= — baskets not terminal whose last progress is older
 * than STUCK_THRESHOLD_SECONDS, with the reason in words and the action that heals it. One page
 * reads at most `limit` index rows and their orders, plus one bounded look at the dead letters and
 * the quarantine; a page may hold fewer stuck baskets than `limit` (candidates that moved on).
 */

export const consoleStuckName = 'consoleStuck';

export interface ConsoleStuckDeps extends StuckScanDeps {
  fulfillmentStatusFor: (context: InvocationContext) => FulfillmentStatusReader;
}

export type ConsoleStuckHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

export function makeConsoleStuck(deps: ConsoleStuckDeps): ConsoleStuckHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const query = pagingSchema.safeParse(pagingQuery(request));
    if (!query.success) return validationProblem(query.error);
    const { limit, continuation } = query.data;
    const evidence = new StuckEvidence(deps, deps.fulfillmentStatusFor(context));
    try {
      const page = await scanStuckPage(deps, evidence, limit, continuation);
      return {
        status: 200,
        jsonBody: {
          items: page.items,
          ...(page.continuation === undefined ? {} : { continuation: page.continuation }),
          thresholdSeconds: deps.stuckThresholdMs() / 1000,
          candidates: page.candidates,
          rowsRead: page.rowsRead,
          ...(page.warnings.length === 0 ? {} : { warnings: page.warnings }),
        },
      };
    } catch (error) {
      return readFailed(context, 'Reading the in-flight index', error);
    }
  };
}

export const consoleStuckDeps: ConsoleStuckDeps = {
  inFlightIndex,
  orderStore,
  deadLetters: deadLettersForViews,
  quarantineStore,
  now,
  stuckThresholdMs: () => getConfig().stuckThresholdMs,
  bucketMs: () => getConfig().inFlightBucketMs,
  fulfillmentStatusFor: fulfillmentStatusReaderFor,
};

export const consoleStuck = makeConsoleStuck(consoleStuckDeps);

registerHttp(consoleStuckName, {
  route: 'console/stuck',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: consoleStuck,
});
