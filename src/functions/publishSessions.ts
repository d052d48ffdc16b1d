import { randomBytes } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import type { EventPublisher } from '../adapters/ports';
import { basketEvents, interleave, type PlannedBasket } from '../application/testSessions';
import { eventPublisher, now } from '../dependencies';
import { basketIdSchema, currencySchema, itemAddedDataSchema, toMinorUnits } from '../domain/events';
import { getConfig, settingNames } from '../config';
import { contextOfInvocation, traced } from '../telemetry/tracing';
import { dependencyUnavailable, problem, readJsonBody, validationProblem } from './http/problem';
import { registerHttp } from './http/routeTable';

/**
 * POST /api/sessions — the producer for test sessions. Each basket becomes ItemAdded × n,
 * BasketCheckedOut, PaymentMade (for the basket total), sequenced 1..n+2, published with
 * sessionId = basketId. Answers 202 with where to follow each basket.
 */

export const publishSessionsName = 'publishSessions';
export const maxBaskets = 1000;
export const maxItemsPerBasket = 100;
/** Bounds the scheduled-enqueue spread so a request cannot park messages for days. */
export const maxDelayMs = 60_000;
const maxTotal = 1_000_000;

const generateSchema = z.strictObject({
  generate: z.strictObject({
    baskets: z.number().int().min(1).max(maxBaskets),
    itemsPerBasket: z.number().int().min(1).max(maxItemsPerBasket),
    interleave: z.boolean().default(true),
    delayMs: z.number().int().min(0).max(maxDelayMs).optional(),
    currency: currencySchema.default('EUR'),
  }),
});

const explicitSchema = z
  .strictObject({
    baskets: z
      .array(
        z.strictObject({
          basketId: basketIdSchema.optional(),
          currency: currencySchema,
          // Zero items is allowed on purpose: it shows the "checkout needs an item" rule blocking an order.
          items: z.array(itemAddedDataSchema).max(maxItemsPerBasket),
        }),
      )
      .min(1)
      .max(maxBaskets),
    interleave: z.boolean().default(false),
    delayMs: z.number().int().min(0).max(maxDelayMs).optional(),
  })
  .superRefine((request, ctx) => {
    const seen = new Set<string>();
    request.baskets.forEach((basket, index) => {
      if (basket.basketId !== undefined) {
        if (seen.has(basket.basketId)) {
          ctx.addIssue({
            code: 'custom',
            path: ['baskets', index, 'basketId'],
            message: `basketId ${basket.basketId} appears twice`,
          });
        }
        seen.add(basket.basketId);
      }
      const total = basket.items.reduce((sum, item) => sum + item.quantity * toMinorUnits(item.unitPrice), 0);
      if (total > maxTotal * 100) {
        ctx.addIssue({
          code: 'custom',
          path: ['baskets', index, 'items'],
          message: `the basket total must be at most ${String(maxTotal)}`,
        });
      }
    });
  });

export type PublishSessionsRequest = z.infer<typeof generateSchema> | z.infer<typeof explicitSchema>;

/**
 * Picks the form by its key before validating, so errors name the fields of the form the client
 * meant (a plain union would only say "matches neither").
 */
export function parsePublishSessionsRequest(value: unknown): z.ZodSafeParseResult<PublishSessionsRequest> {
  const isGenerate = typeof value === 'object' && value !== null && 'generate' in value;
  return isGenerate ? generateSchema.safeParse(value) : explicitSchema.safeParse(value);
}

export interface PublishSessionsDeps {
  publisher: () => EventPublisher;
  now: () => Date;
  /** A short random token that makes generated basket ids unique per request. */
  runId: () => string;
  /** TEST_PRODUCER_ENABLED; absent = on. */
  producerEnabled?: () => boolean;
}

export function randomRunId(): string {
  return randomBytes(4).toString('hex');
}

const catalogue = [
  { sku: 'SKU-1', unitPrice: 9.5 },
  { sku: 'SKU-2', unitPrice: 4.99 },
  { sku: 'SKU-3', unitPrice: 12 },
  { sku: 'SKU-4', unitPrice: 19.99 },
  { sku: 'SKU-5', unitPrice: 3.25 },
] as const;

/** Deterministic baskets (only the run id varies), drawing on a small catalogue so stock is contended. */
export function planBaskets(request: PublishSessionsRequest, runId: string): PlannedBasket[] {
  if ('generate' in request) {
    const { baskets, itemsPerBasket, currency } = request.generate;
    return Array.from({ length: baskets }, (_, b) => ({
      basketId: `b-${runId}-${String(b + 1)}`,
      currency,
      items: Array.from({ length: itemsPerBasket }, (_, i) => {
        const product = catalogue[(b + i) % catalogue.length] ?? catalogue[0];
        return { sku: product.sku, quantity: 1 + ((b + i) % 3), unitPrice: product.unitPrice };
      }),
    }));
  }
  return request.baskets.map((basket, b) => ({
    basketId: basket.basketId ?? `b-${runId}-${String(b + 1)}`,
    currency: basket.currency,
    items: basket.items,
  }));
}

export function makePublishSessions(
  deps: PublishSessionsDeps,
): (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit> {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    if (deps.producerEnabled?.() === false) return producerSwitchedOff();
    const body = await readJsonBody(request);
    if (!body.ok) return body.response;
    const parsed = parsePublishSessionsRequest(body.value);
    if (!parsed.success) {
      return validationProblem(
        parsed.error,
        'Send {"generate": {"baskets", "itemsPerBasket", "interleave"?, "delayMs"?, "currency"?}} or {"baskets": [{"basketId"?, "currency", "items": [...]}]}.',
      );
    }
    const options = 'generate' in parsed.data ? parsed.data.generate : parsed.data;
    const baskets = planBaskets(parsed.data, deps.runId());
    const start = deps.now();
    const perBasket = baskets.map((basket) => basketEvents(basket, start, options.delayMs));
    const ordered = options.interleave ? interleave(perBasket) : perBasket.flat();

    try {
      await deps.publisher().publish(ordered, contextOfInvocation(context.traceContext));
    } catch (error) {
      // Retrying explicit baskets is safe: their message ids are deterministic, so the queue's duplicate
      // detection drops repeats. Generated ids are new per request: a retried generator request makes new
      // baskets, and whatever the failed attempt published stays an incomplete (Open) order.
      return dependencyUnavailable(context, `Publishing ${String(ordered.length)} events to Service Bus`, error);
    }
    context.log(
      `publishSessions: published ${String(ordered.length)} events for ${String(baskets.length)} baskets (interleave ${String(options.interleave)}).`,
    );
    return {
      status: 202,
      jsonBody: {
        baskets: baskets.map((basket, index) => ({
          basketId: basket.basketId,
          events: perBasket[index]?.length ?? 0,
          statusUrl: `/api/orders/${encodeURIComponent(basket.basketId)}`,
        })),
      },
    };
  };
}

/** 403: the app setting says this deployment takes no test baskets (the route stays, so the answer can say why). */
function producerSwitchedOff(): HttpResponseInit {
  return problem({
    status: 403,
    type: 'producer-disabled',
    title: 'Test producer switched off',
    detail: `The test producer is switched off in this deployment (app setting ${settingNames.testProducerEnabled}=false, infra parameter testProducerEnabled).`,
  });
}

// Continues the request's trace (the host's span for the call) or starts one; each message carries it.
export const publishSessions = traced(
  makePublishSessions({
    publisher: eventPublisher,
    now,
    runId: randomRunId,
    producerEnabled: () => getConfig().testProducerEnabled,
  }),
);

registerHttp(publishSessionsName, {
  route: 'sessions',
  methods: ['POST'],
  authLevel: 'function',
  handler: publishSessions,
});
