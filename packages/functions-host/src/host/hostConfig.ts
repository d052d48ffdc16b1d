import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { parseTimeSpan } from './timeSpan';

const timeSpan = z.string().transform((text, ctx) => {
  try {
    return parseTimeSpan(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
    return z.NEVER;
  }
});

const serviceBusSchema = z.looseObject({
  prefetchCount: z.number().int().min(0).optional(),
  autoCompleteMessages: z.boolean().optional(),
  maxAutoLockRenewalDuration: timeSpan.optional(),
  maxConcurrentCalls: z.number().int().min(1).optional(),
  maxConcurrentSessions: z.number().int().min(1).optional(),
  maxConcurrentCallsPerSession: z.number().int().min(1).optional(),
  sessionIdleTimeout: timeSpan.optional(),
  maxMessageBatchSize: z.number().int().min(1).optional(),
  clientRetryOptions: z
    .looseObject({
      mode: z.enum(['exponential', 'fixed', 'Exponential', 'Fixed']).optional(),
      tryTimeout: timeSpan.optional(),
      delay: timeSpan.optional(),
      maxDelay: timeSpan.optional(),
      maxRetries: z.number().int().min(0).optional(),
    })
    .optional(),
});

const hostJsonSchema = z.looseObject({
  version: z.string().optional(),
  extensions: z
    .looseObject({
      serviceBus: serviceBusSchema.optional(),
      durableTask: z
        .looseObject({
          hubName: z.string().min(1).optional(),
          maxConcurrentActivityFunctions: z.number().int().min(1).optional(),
          maxConcurrentOrchestratorFunctions: z.number().int().min(1).optional(),
        })
        .optional(),
      http: z.looseObject({ routePrefix: z.string().optional() }).optional(),
    })
    .optional(),
});

/** The Service Bus extension's options with the extension's defaults filled in. */
export interface ServiceBusOptions {
  prefetchCount: number;
  autoCompleteMessages: boolean;
  maxAutoLockRenewalDurationMs: number;
  maxConcurrentCalls: number;
  maxConcurrentSessions: number;
  maxConcurrentCallsPerSession: number;
  /** Unset in host.json → the client's tryTimeout (60 s), as in Azure. */
  sessionIdleTimeoutMs: number;
  retry: {
    mode: 'exponential' | 'fixed';
    tryTimeoutMs: number;
    delayMs: number;
    maxDelayMs: number;
    maxRetries: number;
  };
}

export interface HostConfig {
  serviceBus: ServiceBusOptions;
  durableHubName: string;
  /** host.json durableTask concurrency limits, when set (the backend has the extension's defaults). */
  durableConcurrency: { maxConcurrentActivityFunctions?: number; maxConcurrentOrchestratorFunctions?: number };
  routePrefix: string;
}

function durableConcurrency(
  durable:
    | { maxConcurrentActivityFunctions?: number | undefined; maxConcurrentOrchestratorFunctions?: number | undefined }
    | undefined,
): HostConfig['durableConcurrency'] {
  const result: HostConfig['durableConcurrency'] = {};
  if (durable?.maxConcurrentActivityFunctions !== undefined)
    result.maxConcurrentActivityFunctions = durable.maxConcurrentActivityFunctions;
  if (durable?.maxConcurrentOrchestratorFunctions !== undefined)
    result.maxConcurrentOrchestratorFunctions = durable.maxConcurrentOrchestratorFunctions;
  return result;
}

export function parseHostJson(raw: unknown): HostConfig {
  const parsed = hostJsonSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`host.json is invalid: ${issues}`);
  }
  const sb = parsed.data.extensions?.serviceBus ?? {};
  const retry = sb.clientRetryOptions ?? {};
  const tryTimeoutMs = retry.tryTimeout ?? 60_000;
  return {
    serviceBus: {
      prefetchCount: sb.prefetchCount ?? 0,
      autoCompleteMessages: sb.autoCompleteMessages ?? true,
      maxAutoLockRenewalDurationMs: sb.maxAutoLockRenewalDuration ?? 5 * 60_000,
      maxConcurrentCalls: sb.maxConcurrentCalls ?? 16 * availableParallelism(),
      maxConcurrentSessions: sb.maxConcurrentSessions ?? 8,
      maxConcurrentCallsPerSession: sb.maxConcurrentCallsPerSession ?? 1,
      sessionIdleTimeoutMs: sb.sessionIdleTimeout ?? tryTimeoutMs,
      retry: {
        mode: retry.mode?.toLowerCase() === 'fixed' ? 'fixed' : 'exponential',
        tryTimeoutMs,
        delayMs: retry.delay ?? 800,
        maxDelayMs: retry.maxDelay ?? 60_000,
        maxRetries: retry.maxRetries ?? 3,
      },
    },
    durableHubName: parsed.data.extensions?.durableTask?.hubName ?? 'TestHubName',
    durableConcurrency: durableConcurrency(parsed.data.extensions?.durableTask),
    routePrefix: parsed.data.extensions?.http?.routePrefix ?? 'api',
  };
}
