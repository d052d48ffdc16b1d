import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { contextOfInvocation, continuedContext, currentCarrier, inSpan, SpanKind } from '../telemetry/tracing';
import type { FulfillmentRequest, FulfillmentStarter, StartHint } from './ports';
import { errorText } from '../errors';

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

type DurableClient = ReturnType<typeof df.getClient>;

/**
 * df.getClient validates the client input and builds a new HTTP client (axios) on every call, and
 * off Azure (WEBSITE_HOSTNAME unset) also deep-copies the input to rewrite its URLs; the host hands
 * every call the same input, so one client per distinct input (its JSON, so a rotated key or another
 * task hub gets its own) is reused. Bounded: a few task hubs at most.
 */
const clientsByInput = new Map<string, DurableClient>();
const maxCachedClients = 8;

function durableClientFor(context: InvocationContext): DurableClient {
  const binding = context.options.extraInputs.find((input) => input.type === 'durableClient');
  const input: unknown = binding === undefined ? undefined : context.extraInputs.get(binding);
  if (input === undefined) return df.getClient(context);
  const key = JSON.stringify(input);
  let client = clientsByInput.get(key);
  if (client === undefined) {
    client = df.getClient(context);
    if (clientsByInput.size >= maxCachedClients) clientsByInput.clear();
    clientsByInput.set(key, client);
  }
  return client;
}

/**
 * Starts the fulfillment through the invocation's durable client (extraInputs: df.input.durableClient()).
 * Idempotent: an existing instance is left alone; a Failed / Terminated one is started again, which
 * is safe because the inventory entity's reserve is idempotent per basket. Any client error
 * propagates, so the triggering message is redelivered and the start retried. The step that saved
 * the order into Paid starts without the status read (no instance can exist yet); should that start
 * fail, the status read decides, as on every other delivery.
 */
export function fulfillmentStarterFor(context: InvocationContext): FulfillmentStarter {
  return {
    async ensureStarted(request: FulfillmentRequest, hint?: StartHint): Promise<void> {
      const client = durableClientFor(context);
      const instanceId = fulfillmentInstanceId(request.basketId);
      if (hint?.paidInThisStep === true) {
        try {
          await start(client, request, instanceId, context);
          context.log(`Started ${fulfillOrderOrchestration} ${instanceId} (order just paid).`);
          return;
        } catch (error) {
          context.warn(`Starting ${instanceId} failed (${errorText(error)}); checking its status before retrying.`);
        }
      }
      let runtimeStatus: string | undefined;
      try {
        runtimeStatus = (await client.getStatus(instanceId)).runtimeStatus;
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      if (runtimeStatus !== undefined && liveOrDone.has(runtimeStatus)) return;
      await start(client, request, instanceId, context);
      context.log(`Started ${fulfillOrderOrchestration} ${instanceId} (previous status: ${runtimeStatus ?? 'none'}).`);
    },
  };
}

function start(
  client: DurableClient,
  request: FulfillmentRequest,
  instanceId: string,
  invocation: InvocationContext,
): Promise<void> {
  const attributes = { 'convoy.basket_id': request.basketId, 'convoy.orchestration.instance_id': instanceId };
  // Under the handler's span when spans are exported, else the invocation's trace (nothing is active).
  const parent = continuedContext(contextOfInvocation(invocation.traceContext));
  const options = { kind: SpanKind.PRODUCER, attributes, parent };
  return inSpan(`start ${fulfillOrderOrchestration}`, options, async (_span, underStart) => {
    // The orchestration continues this trace through its input: orchestrator code replays, so it
    // makes no spans itself; its activities do, under this one (see fulfillOrder.ts).
    const trace = currentCarrier(underStart);
    await client.startNew(fulfillOrderOrchestration, { instanceId, input: { ...request, ...(trace && { trace }) } });
  });
}
