import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import * as rhea from 'rhea';
import { reorderGuidBytes } from './guidOrder';

/** The lock token the SDK shows for a delivery tag. */
function lockTokenOf(tag: unknown): string | undefined {
  const bytes = typeof tag === 'string' ? Buffer.from(tag) : Buffer.isBuffer(tag) ? tag : undefined;
  return bytes?.length === 16 ? rhea.uuid_to_string(reorderGuidBytes(bytes)) : undefined;
}

/** Body sections as rhea decodes them: data (0x75) → Buffer, amqp-value (0x77) → value, sequence (0x76) → list. */
function bodyOf(body: unknown): unknown {
  if (body !== null && typeof body === 'object' && 'typecode' in body && 'content' in body) return body.content;
  return body;
}

function dateOf(value: unknown): Date | undefined {
  if (value instanceof Date) return value;
  if (typeof value === 'number') return new Date(value);
  return undefined;
}

/** core-amqp's Constants.maxDurationValue: TimeSpan.MaxValue in ms. */
const maxDurationMs = 922337203685477;

/** The ServiceBusReceivedMessage fields the trigger is built from, from a peek-locked rhea delivery. */
export function receivedMessageOf(message: rhea.Message, delivery: rhea.Delivery): ServiceBusReceivedMessage {
  const annotations = (message.message_annotations ?? {}) as Record<string, unknown>;
  const header = message as unknown as { delivery_count?: number; ttl?: number };
  const enqueued = dateOf(annotations['x-opt-enqueued-time']);
  // As the SDK: no ttl means the longest TimeSpan, and the expiry is capped there.
  const ttl = typeof header.ttl === 'number' ? header.ttl : maxDurationMs;
  const received = {
    body: bodyOf(message.body),
    messageId: message.message_id,
    contentType: message.content_type,
    correlationId: message.correlation_id,
    subject: message.subject,
    to: message.to,
    replyTo: message.reply_to,
    replyToSessionId: message.reply_to_group_id,
    sessionId: message.group_id,
    timeToLive: typeof header.ttl === 'number' ? header.ttl : undefined,
    applicationProperties: message.application_properties,
    partitionKey: annotations['x-opt-partition-key'],
    deadLetterSource: annotations['x-opt-deadletter-source'],
    // rhea gives a number where the SDK gives a Long; metadata.ts reads either through toString().
    sequenceNumber: annotations['x-opt-sequence-number'] ?? undefined,
    enqueuedTimeUtc: enqueued,
    lockedUntilUtc: dateOf(annotations['x-opt-locked-until']),
    expiresAtUtc: enqueued === undefined ? undefined : new Date(Math.min(enqueued.getTime() + ttl, maxDurationMs)),
    // The SDK passes the header's count through (attempts before this one); metadata.ts maps it as it does the SDK's.
    deliveryCount: header.delivery_count,
    lockToken: lockTokenOf(delivery.tag),
    state: 'active',
    _rawAmqpMessage: message,
  };
  return received as unknown as ServiceBusReceivedMessage;
}
