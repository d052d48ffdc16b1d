import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';
import type { FulfillmentStatusReader, FulfillmentStep, FulfillmentView } from './consolePorts';
import { fulfillmentInstanceId } from './durableFulfillment';

/** How the console reads a basket's fulfillment: the durable client's status query, with history when asked. */

/** At most this many history events become timeline steps (a fulfillment has a handful). */
const maxSteps = 100;

const historyEventSchema = z.looseObject({
  EventType: z.union([z.string(), z.number()]).optional(),
  Timestamp: z.string().optional(),
  Name: z.string().nullish(),
  FunctionName: z.string().nullish(),
  Reason: z.string().nullish(),
  /** EventSent: the target, e.g. an entity `@inventory@SKU-1`. */
  InstanceId: z.string().nullish(),
});

function stepOf(event: unknown): FulfillmentStep | undefined {
  const parsed = historyEventSchema.safeParse(event);
  if (!parsed.success || parsed.data.Timestamp === undefined) return undefined;
  const { EventType, Timestamp, Name, FunctionName, Reason, InstanceId } = parsed.data;
  const what = InstanceId?.startsWith('@') === true ? `${Name ?? 'op'} to ${InstanceId}` : (FunctionName ?? Name);
  return {
    at: Timestamp,
    name: `${String(EventType ?? 'Event')}${what === undefined || what === null ? '' : ` ${what}`}`,
    ...(Reason === undefined || Reason === null ? {} : { detail: Reason }),
  };
}

/** getStatus rejects (instead of answering undefined) when the instance does not exist. */
function isNotFound(error: unknown): boolean {
  return error instanceof Error && /HTTP 404/.test(error.message);
}

function isoOf(value: unknown): string | undefined {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : undefined;
}

/** The durable client binding's data as the extension hands it over (only what is read here). */
const clientDataSchema = z.looseObject({ rpcBaseUrl: z.url().optional() });
const historyPayloadSchema = z.looseObject({
  runtimeStatus: z.string(),
  createdTime: z.string().optional(),
  lastUpdatedTime: z.string().optional(),
  historyEvents: z.array(z.unknown()).nullish(),
});

/**
 * durable-functions 3.5's DurableOrchestrationStatus keeps `history` from its initializer, but the
 * extension's status API answers with `historyEvents`, so getStatus never carries the history. The
 * steps are therefore read from the same extension endpoint the client itself calls (the binding's
 * rpcBaseUrl: `instances/{id}?showHistory=true`).
 */
function rpcBaseUrlOf(context: InvocationContext): string | undefined {
  const input = context.options.extraInputs.find((candidate) => candidate.type === 'durableClient');
  if (input === undefined) return undefined;
  const parsed = clientDataSchema.safeParse(context.extraInputs.get(input));
  return parsed.success ? parsed.data.rpcBaseUrl : undefined;
}

async function statusWithHistory(rpcBaseUrl: string, instanceId: string): Promise<FulfillmentView | undefined> {
  const url = new URL(`instances/${encodeURIComponent(instanceId)}`, rpcBaseUrl);
  url.search = 'showHistory=true&showHistoryOutput=false&showInput=false';
  const response = await fetch(url);
  if (response.status === 404) return undefined;
  if (response.status !== 200 && response.status !== 202) {
    throw new Error(`The Durable extension answered HTTP ${String(response.status)} for ${instanceId}.`);
  }
  const payload = historyPayloadSchema.parse(await response.json());
  return {
    instanceId,
    runtimeStatus: payload.runtimeStatus,
    createdAt: payload.createdTime,
    lastUpdatedAt: payload.lastUpdatedTime,
    steps: (payload.historyEvents ?? [])
      .slice(0, maxSteps)
      .map(stepOf)
      .filter((step) => step !== undefined),
  };
}

export function fulfillmentStatusReaderFor(context: InvocationContext): FulfillmentStatusReader {
  return {
    async status(basketId: string, withSteps: boolean): Promise<FulfillmentView | undefined> {
      const instanceId = fulfillmentInstanceId(basketId);
      const rpcBaseUrl = withSteps ? rpcBaseUrlOf(context) : undefined;
      if (rpcBaseUrl !== undefined) return statusWithHistory(rpcBaseUrl, instanceId);
      let status: df.DurableOrchestrationStatus;
      try {
        status = await df.getClient(context).getStatus(instanceId, { showHistory: false, showInput: false });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
      return {
        instanceId,
        runtimeStatus: status.runtimeStatus,
        createdAt: isoOf(status.createdTime),
        lastUpdatedAt: isoOf(status.lastUpdatedTime),
        steps: [],
      };
    },
  };
}
