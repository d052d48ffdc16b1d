import { randomUUID } from 'node:crypto';
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { hasMethods } from '../guards';
import type { TypedData } from '../types';

/**
 * What the Functions host sends the Node worker for one Service Bus message: the trigger input and
 * the trigger metadata (the extension's binding data, PascalCase, serialized the host's way —
 * strings as `string`, everything else as Newtonsoft JSON). Null values are left out.
 */

/** Newtonsoft's round-trip format: fraction trimmed of trailing zeros, `suffix` per DateTime kind. */
export function dotNetDate(date: Date, suffix: '' | 'Z' | '+00:00'): string {
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() > 9999) return `9999-12-31T23:59:59.9999999${suffix}`;
  const iso = date.toISOString(); // 2024-01-02T03:04:05.120Z
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}${suffix}`;
}

/** AMQP longs arrive as `long` objects. */
function isLong(value: unknown): value is { toNumber(): number } {
  return hasMethods(value, ['toNumber']) && 'high' in value && 'low' in value;
}

function jsonValue(value: unknown): unknown {
  if (value instanceof Date) return dotNetDate(value, 'Z');
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'bigint') return Number(value);
  if (isLong(value)) return value.toNumber();
  return value;
}

function json(value: unknown): TypedData {
  return { json: JSON.stringify(value) };
}

function sequenceNumberOf(message: ServiceBusReceivedMessage): number | undefined {
  const raw = message.sequenceNumber;
  return raw === undefined ? undefined : Number(raw.toString());
}

/** The message body as the host hands it to Node: JSON → json, other text → string, `dataType: 'binary'` → bytes. */
export function triggerInput(message: ServiceBusReceivedMessage, dataType: unknown): TypedData {
  const body: unknown = message.body;
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
    if (dataType === 'binary') return { bytes: new Uint8Array(body) };
    const text = Buffer.from(body).toString('utf8');
    try {
      JSON.parse(text);
      return { json: text };
    } catch {
      return { string: text };
    }
  }
  if (typeof body === 'string') return { string: body };
  if (body === undefined || body === null) return { string: '' };
  return { json: JSON.stringify(body, (_key, value: unknown) => jsonValue(value)) };
}

export function triggerMetadata(message: ServiceBusReceivedMessage, functionName: string): Record<string, TypedData> {
  const metadata: Record<string, TypedData> = {};
  const text = (key: string, value: string | undefined | null): void => {
    if (value !== undefined && value !== null) metadata[key] = { string: value };
  };
  // The .NET client counts the current delivery: 1 on first receipt (the wire value is 0).
  metadata.DeliveryCount = json((message.deliveryCount ?? 0) + 1);
  text('DeadLetterSource', message.deadLetterSource);
  text('LockToken', message.lockToken);
  const expires = message.expiresAtUtc ?? new Date(8_640_000_000_000_000);
  metadata.ExpiresAtUtc = json(dotNetDate(expires, ''));
  metadata.ExpiresAt = json(dotNetDate(expires, '+00:00'));
  if (message.enqueuedTimeUtc !== undefined) {
    metadata.EnqueuedTimeUtc = json(dotNetDate(message.enqueuedTimeUtc, ''));
    metadata.EnqueuedTime = json(dotNetDate(message.enqueuedTimeUtc, '+00:00'));
  }
  const messageId = message.messageId;
  text('MessageId', messageId === undefined ? undefined : String(jsonValue(messageId)));
  text('ContentType', message.contentType);
  text('ReplyTo', message.replyTo);
  const sequenceNumber = sequenceNumberOf(message);
  if (sequenceNumber !== undefined) metadata.SequenceNumber = json(sequenceNumber);
  text('To', message.to);
  text('Subject', message.subject);
  text('Label', message.subject);
  const correlationId = message.correlationId;
  text('CorrelationId', correlationId === undefined ? undefined : String(jsonValue(correlationId)));
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message.applicationProperties ?? {})) properties[key] = jsonValue(value);
  metadata.ApplicationProperties = json(properties);
  metadata.UserProperties = json(properties);
  text('SessionId', message.sessionId);
  text('ReplyToSessionId', message.replyToSessionId);
  text('PartitionKey', message.partitionKey);
  text('TransactionPartitionKey', message.partitionKey);
  metadata.sys = json({ MethodName: functionName, UtcNow: new Date().toISOString(), RandGuid: randomUUID() });
  return metadata;
}

/** The facts the host logs and reports per message. */
export function messageFacts(message: ServiceBusReceivedMessage): {
  sessionId: string | undefined;
  sequenceNumber: number | undefined;
  messageId: string | undefined;
  deliveryCount: number;
} {
  const messageId = message.messageId;
  return {
    sessionId: message.sessionId,
    sequenceNumber: sequenceNumberOf(message),
    messageId: messageId === undefined ? undefined : String(jsonValue(messageId)),
    deliveryCount: (message.deliveryCount ?? 0) + 1,
  };
}
