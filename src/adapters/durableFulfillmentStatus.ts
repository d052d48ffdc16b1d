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
});

function stepOf(event: unknown): FulfillmentStep | undefined {
  const parsed = historyEventSchema.safeParse(event);
  if (!parsed.success || parsed.data.Timestamp === undefined) return undefined;
  const { EventType, Timestamp, Name, FunctionName, Reason } = parsed.data;
  const what = FunctionName ?? Name;
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

export function fulfillmentStatusReaderFor(context: InvocationContext): FulfillmentStatusReader {
  return {
    async status(basketId: string, withSteps: boolean): Promise<FulfillmentView | undefined> {
      const instanceId = fulfillmentInstanceId(basketId);
      let status: df.DurableOrchestrationStatus;
      try {
        status = await df
          .getClient(context)
          .getStatus(instanceId, { showHistory: withSteps, showHistoryOutput: false, showInput: false });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
      const steps = (status.history ?? [])
        .slice(0, maxSteps)
        .map(stepOf)
        .filter((step) => step !== undefined);
      return {
        instanceId,
        runtimeStatus: status.runtimeStatus,
        createdAt: isoOf(status.createdTime),
        lastUpdatedAt: isoOf(status.lastUpdatedTime),
        steps,
      };
    },
  };
}
