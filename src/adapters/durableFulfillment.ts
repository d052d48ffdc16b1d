import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { currentCarrier, inSpan, SpanKind } from '../telemetry/tracing';
import type { FulfillmentRequest, FulfillmentStarter } from './ports';

export const fulfillOrderOrchestration = 'fulfillOrder';

/** One orchestration per basket, so its id alone makes starting idempotent. */
export function fulfillmentInstanceId(basketId: string): string {
  return `fulfill-${basketId}`;
}

/** Runtime states that mean "this basket's fulfillment exists and must not be started again". */
const liveOrDone = new Set<string>([
  df.OrchestrationRuntimeStatus.Pending,
  df.OrchestrationRuntimeStatus.Running,
  df.OrchestrationRuntimeStatus.ContinuedAsNew,
  // Suspended by an operator: starting again would answer 409 and spin the message to the DLQ.
  df.OrchestrationRuntimeStatus.Suspended,
  df.OrchestrationRuntimeStatus.Completed,
]);

/** getStatus rejects (instead of answering undefined) when the instance does not exist. */
function isNotFound(error: unknown): boolean {
  return error instanceof Error && /HTTP 404/.test(error.message);
}

/**
 * Starts the fulfillment through the invocation's durable client (extraInputs: df.input.durableClient()).
 * Idempotent: an existing instance is left alone; a Failed / Terminated one is started again, which
 * is safe because the inventory entity's reserve is idempotent per basket. Any client error
 * propagates, so the triggering message is redelivered and the start retried.
 */
export function fulfillmentStarterFor(context: InvocationContext): FulfillmentStarter {
  return {
    async ensureStarted(request: FulfillmentRequest): Promise<void> {
      const client = df.getClient(context);
      const instanceId = fulfillmentInstanceId(request.basketId);
      let runtimeStatus: string | undefined;
      try {
        runtimeStatus = (await client.getStatus(instanceId)).runtimeStatus;
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      if (runtimeStatus !== undefined && liveOrDone.has(runtimeStatus)) return;
      const attributes = { 'convoy.basket_id': request.basketId, 'convoy.orchestration.instance_id': instanceId };
      await inSpan(`start ${fulfillOrderOrchestration}`, { kind: SpanKind.PRODUCER, attributes }, async () => {
        // The orchestration continues this trace through its input: orchestrator code replays, so it
        // makes no spans itself; its activities do, under this one (see fulfillOrder.ts).
        const trace = currentCarrier();
        await client.startNew(fulfillOrderOrchestration, {
          instanceId,
          input: { ...request, ...(trace && { trace }) },
        });
      });
      context.log(`Started ${fulfillOrderOrchestration} ${instanceId} (previous status: ${runtimeStatus ?? 'none'}).`);
    },
  };
}
