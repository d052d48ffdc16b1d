import { randomUUID } from 'node:crypto';
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { hasMethods } from '../guards';
import { messageTraceCarrier } from '../trace';
import type { MessageFacts } from './dispatch';
import type { TypedData } from '../../worker/contract';

/**
 * What the Functions host sends the Node worker for one Service Bus message: the trigger input and
 * the trigger metadata (the extension's binding data, PascalCase, serialized the host's way —
 * strings as `string`, everything else as Newtonsoft JSON). Null values are left out. Strings that
 * cannot be JSON go as JSON strings: see stringData.
 */

/** Newtonsoft's round-trip format: fraction trimmed of trailing zeros, `suffix` per DateTime kind. */
export function dotNetDate(date: Date, suffix: '' | 'Z' | '+00:00'): string {
  return `${dotNetDateBase(date)}${suffix}`;
}

/** dotNetDate without the suffix: one call serves both the DateTime and the DateTimeOffset form. */
function dotNetDateBase(date: Date): string {
  const time = date.getTime();
  if (Number.isNaN(time) || date.getUTCFullYear() > 9999) return '9999-12-31T23:59:59.9999999';
  const iso = date.toISOString(); // 2024-01-02T03:04:05.120Z
  const ms = time - Math.floor(time / 1000) * 1000;
  if (ms === 0) return iso.slice(0, 19);
  // Trailing zeros of the milliseconds dropped: .120 → .12, .100 → .1.
  const end = ms % 100 === 0 ? 21 : ms % 10 === 0 ? 22 : 23;
  return iso.slice(0, end);
}

/** A date string as a JSON value: its characters never need escaping. */
function jsonDate(text: string): TypedData {
  return { json: `"${text}"` };
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
    const text = (Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)).toString(
      'utf8',
    );
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

const jsonNumber = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Whether JSON.parse could accept the text; false only when it certainly throws. trim() takes off
 * more than JSON's whitespace, which only errs towards `true`: such text goes as `string`, as before.
 */
function mayBeJson(text: string): boolean {
  const trimmed = text.trim();
  const first = trimmed.charAt(0);
  if (first === '{' || first === '[' || first === '"') return true;
  if (trimmed === 'true' || trimmed === 'false' || trimmed === 'null') return true;
  return jsonNumber.test(trimmed);
}

/**
 * A string the way the worker will read it. The worker JSON.parses every `string` value and keeps the
 * text when that throws, and a throw per field cost ~5 % of the local host's CPU per message (lock
 * token, message and session id are never JSON). Text that cannot be JSON goes as a JSON string
 * instead: the function sees the same value without the throw.
 */
export function stringData(text: string): TypedData {
  return mayBeJson(text) ? { string: text } : { json: JSON.stringify(text) };
}

export function triggerMetadata(message: ServiceBusReceivedMessage, functionName: string): Record<string, TypedData> {
  const metadata: Record<string, TypedData> = {};
  const text = (key: string, value: string | undefined | null): void => {
    if (value !== undefined && value !== null) metadata[key] = stringData(value);
  };
  // The .NET client counts the current delivery: 1 on first receipt (the wire value is 0).
  metadata.DeliveryCount = json((message.deliveryCount ?? 0) + 1);
  text('DeadLetterSource', message.deadLetterSource);
  text('LockToken', message.lockToken);
  const expires = dotNetDateBase(message.expiresAtUtc ?? new Date(8_640_000_000_000_000));
  metadata.ExpiresAtUtc = jsonDate(expires);
  metadata.ExpiresAt = jsonDate(`${expires}+00:00`);
  if (message.enqueuedTimeUtc !== undefined) {
    const enqueued = dotNetDateBase(message.enqueuedTimeUtc);
    metadata.EnqueuedTimeUtc = jsonDate(enqueued);
    metadata.EnqueuedTime = jsonDate(`${enqueued}+00:00`);
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

/** The facts the host logs and reports per message, and the trace context the message carries. */
export function messageFacts(message: ServiceBusReceivedMessage): MessageFacts {
  const messageId = message.messageId;
  const trace = messageTraceCarrier(message.applicationProperties);
  return {
    sessionId: message.sessionId,
    sequenceNumber: sequenceNumberOf(message),
    messageId: messageId === undefined ? undefined : String(jsonValue(messageId)),
    deliveryCount: (message.deliveryCount ?? 0) + 1,
    ...(trace === undefined ? {} : { trace }),
  };
}
