import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import { processOrderEventName } from '../../../../src/functions/processOrderEvent';
import { handlerArguments, type RpcBinding, type RpcTypedData } from './workerConversion';

/**
 * One Service Bus delivery as the Functions host hands it to the Node worker: the body as trigger
 * input and the extension's binding data as PascalCase trigger metadata (strings as `string`, the
 * rest as JSON), turned into handler arguments by the library itself and then into a public
 * InvocationContext.
 */

export interface Delivery {
  /** The message body: an object is sent as JSON, a string as text. */
  body: unknown;
  /** Omitted = the body's basketId (what the producer sets); `null` = no session id at all. */
  sessionId?: string | null;
  messageId: string;
  /** The .NET client's count: 1 on first delivery. */
  deliveryCount: number;
  /** The broker's sequence number. */
  sequenceNumber: number;
  enqueuedTimeUtc: Date;
  applicationProperties?: Record<string, string | number>;
  subject?: string;
}

export interface LogLine {
  level: string;
  line: string;
}

const triggerBindingName = 'message';
const bindings: Record<string, RpcBinding> = {
  [triggerBindingName]: {
    type: 'serviceBusTrigger',
    direction: 'in',
    queueName: '%ORDER_EVENTS_QUEUE%',
    connection: 'ServiceBusConnection',
    isSessionsEnabled: true,
    cardinality: 'one',
  },
};

/** .NET's round-trip DateTime text (UTC): seven fraction digits. */
function dotNetUtc(date: Date): string {
  return `${date.toISOString().slice(0, 23)}0000Z`;
}

function bodyData(body: unknown): RpcTypedData {
  return typeof body === 'string' ? { string: body } : { json: JSON.stringify(body) };
}

export function basketIdOf(body: unknown): string | undefined {
  return typeof body === 'object' && body !== null && 'basketId' in body && typeof body.basketId === 'string'
    ? body.basketId
    : undefined;
}

/** The trigger metadata the Service Bus extension sends for one message, as RPC typed data. */
export function hostTriggerMetadata(delivery: Delivery): Record<string, RpcTypedData> {
  const sessionId = delivery.sessionId === undefined ? basketIdOf(delivery.body) : delivery.sessionId;
  const expires = new Date(delivery.enqueuedTimeUtc.getTime() + 3_600_000);
  const properties = delivery.applicationProperties ?? {};
  return {
    DeliveryCount: { json: JSON.stringify(delivery.deliveryCount) },
    LockToken: { string: randomUUID() },
    ExpiresAtUtc: { json: JSON.stringify(dotNetUtc(expires)) },
    EnqueuedTimeUtc: { json: JSON.stringify(dotNetUtc(delivery.enqueuedTimeUtc)) },
    MessageId: { string: delivery.messageId },
    ContentType: { string: 'application/json' },
    SequenceNumber: { json: JSON.stringify(delivery.sequenceNumber) },
    ...(delivery.subject === undefined
      ? {}
      : { Subject: { string: delivery.subject }, Label: { string: delivery.subject } }),
    ApplicationProperties: { json: JSON.stringify(properties) },
    UserProperties: { json: JSON.stringify(properties) },
    ...(sessionId === null || sessionId === undefined ? {} : { SessionId: { string: sessionId } }),
    sys: {
      json: JSON.stringify({
        MethodName: processOrderEventName,
        UtcNow: new Date().toISOString(),
        RandGuid: randomUUID(),
      }),
    },
  };
}

/** The body and InvocationContext processOrderEvent receives for this delivery on Azure. */
export async function invocationFor(
  delivery: Delivery,
  logs: LogLine[],
): Promise<{ message: unknown; context: InvocationContext }> {
  const converted = await handlerArguments(processOrderEventName, bindings, {
    inputData: [{ name: triggerBindingName, data: bodyData(delivery.body) }],
    triggerMetadata: hostTriggerMetadata(delivery),
  });
  const context = new InvocationContext({
    functionName: processOrderEventName,
    invocationId: randomUUID(),
    triggerMetadata: converted.triggerMetadata,
    logHandler: (level, ...args) => logs.push({ level, line: args.map(String).join(' ') }),
    options: { trigger: { type: 'serviceBusTrigger', name: triggerBindingName } },
  });
  return { message: converted.trigger, context };
}
