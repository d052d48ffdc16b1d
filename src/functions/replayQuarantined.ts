import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';
import { fulfillmentStarterFor } from '../adapters/durableFulfillment';
import type { FulfillmentStarter, OrderStore, QuarantineStore } from '../adapters/ports';
import { getConfig } from '../config';
import { orderProgress } from '../consoleDependencies';
import type { OrderProgressSink } from '../adapters/consoleProjection';
import { now, orderStore, quarantineStore } from '../dependencies';
import { replayQuarantined as replay, type QuarantineCorrection } from '../application/replay';
import { dependencyUnavailable, notFoundProblem, problem, readJsonBody, validationProblem } from './http/problem';

/**
 * POST /api/quarantine/{messageId}/replay — applies a quarantined message (its stored body and
 * session id, or the operator's correction in the body: `{ "sessionId"?, "body"? }`) through the
 * convoy core; the row is removed once the order recorded it. A body whose eventId is not the stored
 * message id answers 409 and changes nothing (applied, it would block the order).
 */

export const replayQuarantinedName = 'replayQuarantined';

export interface ReplayQuarantinedDeps {
  orderStore: () => OrderStore;
  quarantineStore: () => QuarantineStore;
  fulfillmentStarterFor: (context: InvocationContext) => FulfillmentStarter;
  now: () => Date;
  maxParkedEvents: () => number;
  progress?: () => OrderProgressSink;
}

const paramsSchema = z.object({ messageId: z.string().min(1).max(1024) });

const correctionSchema = z.strictObject({
  sessionId: z.string().min(1).max(128).optional(),
  body: z.unknown().optional(),
});

export type ReplayQuarantinedHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/** No body at all means "as stored"; a body must be a correction. */
async function readCorrection(
  request: HttpRequest,
): Promise<{ ok: true; value: QuarantineCorrection } | { ok: false; response: HttpResponseInit }> {
  const length = request.headers.get('content-length');
  if (length === '0' || (length === null && request.headers.get('transfer-encoding') === null)) {
    return { ok: true, value: {} };
  }
  const read = await readJsonBody(request);
  if (!read.ok) return read;
  const parsed = correctionSchema.safeParse(read.value);
  if (!parsed.success) {
    return {
      ok: false,
      response: validationProblem(parsed.error, 'The correction must be { "sessionId"?: string, "body"?: any }.'),
    };
  }
  return { ok: true, value: parsed.data };
}

export function makeReplayQuarantined(deps: ReplayQuarantinedDeps): ReplayQuarantinedHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const params = paramsSchema.safeParse(request.params);
    if (!params.success) return validationProblem(params.error, 'The message id in the path is invalid.');
    const { messageId } = params.data;
    const correction = await readCorrection(request);
    if (!correction.ok) return correction.response;
    try {
      const result = await replay(
        { ...deps, fulfillmentStarter: () => deps.fulfillmentStarterFor(context) },
        messageId,
        correction.value,
        context,
        replayQuarantinedName,
      );
      switch (result.kind) {
        case 'notFound':
          return notFoundProblem(`No quarantined message ${messageId}; GET /api/quarantine lists them.`);
        case 'bodyCut':
          return problem({
            status: 409,
            type: 'body-cut',
            title: 'Stored body incomplete',
            detail: `Quarantined message ${messageId} was stored cut to fit Table Storage; send the whole body as { "body": ... } to replay it.`,
          });
        case 'eventIdMismatch':
          return problem({
            status: 409,
            type: 'event-id-mismatch',
            title: 'eventId differs from the message id',
            detail: `The body's eventId "${result.eventId}" differs from the quarantined message id "${result.messageId}". A replay keeps the message id (Service Bus duplicate detection and the order's log key on it), so the body must carry eventId "${result.messageId}"; a different event must be published by its producer.`,
          });
        case 'replayed': {
          const { kind: _kind, ...answer } = result;
          return { status: 200, jsonBody: answer };
        }
        default: {
          const unreachable: never = result;
          return unreachable;
        }
      }
    } catch (error) {
      return dependencyUnavailable(context, `Replaying quarantined message ${messageId}`, error);
    }
  };
}

export const replayQuarantined = makeReplayQuarantined({
  orderStore,
  quarantineStore,
  fulfillmentStarterFor,
  now,
  maxParkedEvents: () => getConfig().maxParkedEvents,
  progress: orderProgress,
});

app.http(replayQuarantinedName, {
  route: 'quarantine/{messageId}/replay',
  methods: ['POST'],
  authLevel: 'admin',
  extraInputs: [df.input.durableClient()],
  handler: replayQuarantined,
});
