import { ServiceBusClient, type ServiceBusMessage, type ServiceBusSender } from '@azure/service-bus';
import type { ServiceBusConnectionConfig } from '../config';
import type { EventEnvelope } from '../domain/events';
import { ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';
import { continuedContext, currentCarrier, inSpan, SpanKind, tracer, type TraceCarrier } from '../telemetry/tracing';
import { azureCredential } from './azureCredential';
import type { EventPublisher, PublishOptions } from './ports';

/**
 * Publishes order events with the SDK (the output binding cannot set a session id from Node).
 * sessionId = basketId gives FIFO per basket; messageId = eventId lets the queue's duplicate
 * detection drop a producer retry.
 */

export function serviceBusClientFor(connection: ServiceBusConnectionConfig): ServiceBusClient {
  return connection.kind === 'connectionString'
    ? new ServiceBusClient(connection.connectionString)
    : new ServiceBusClient(connection.fullyQualifiedNamespace, azureCredential(connection.clientId));
}

/**
 * Trace context as Service Bus tracing carries it: `Diagnostic-Id` (what every Service Bus SDK reads),
 * and `traceparent` / `tracestate`, which the .NET SDK in the Functions host reads first when its
 * ActivitySource tracing is on (the host's OpenTelemetry mode) and writes itself on send.
 */
export function traceProperties(carrier: TraceCarrier | undefined): Record<string, string> {
  if (carrier === undefined) return {};
  const properties: Record<string, string> = { 'Diagnostic-Id': carrier.traceparent, traceparent: carrier.traceparent };
  if (carrier.tracestate !== undefined && carrier.tracestate !== '') properties.tracestate = carrier.tracestate;
  return properties;
}

/** The wire form of one event: every property a consumer (or an operator peeking) relies on. */
export function toServiceBusMessage(
  event: EventEnvelope,
  options: PublishOptions = {},
  carrier?: TraceCarrier,
): ServiceBusMessage {
  return {
    body: event,
    contentType: 'application/json',
    messageId: event.eventId,
    sessionId: event.basketId,
    subject: event.type,
    applicationProperties: {
      eventType: event.type,
      sequence: event.sequence,
      basketId: event.basketId,
      ...traceProperties(carrier),
    },
    ...(options.notBefore === undefined ? {} : { scheduledEnqueueTimeUtc: options.notBefore }),
  };
}

/**
 * One producer span per message (OpenTelemetry messaging: `create <queue>`), ended at once: its
 * context is what the message carries, so each message's consumer spans hang under their own create.
 */
function stampedMessage(
  event: EventEnvelope,
  options: PublishOptions | undefined,
  queue: string,
  parent: Context,
): ServiceBusMessage {
  const span = tracer.startSpan(
    `create ${queue}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'servicebus',
        'messaging.operation.type': 'create',
        'messaging.destination.name': queue,
        'messaging.message.id': event.eventId,
        'messaging.servicebus.message.session_id': event.basketId,
        'convoy.event.sequence': event.sequence,
        'convoy.event.type': event.type,
      },
    },
    parent,
  );
  const carrier = currentCarrier(trace.setSpan(parent, span));
  span.end();
  return toServiceBusMessage(event, options, carrier);
}

export class ServiceBusEventPublisher implements EventPublisher {
  constructor(private readonly sender: ServiceBusSender) {}

  /**
   * Sends in as few batches as fit, one batch at a time, so the broker enqueues the events in the
   * order given. Batches mix sessions: fine for a non-partitioned queue (what infra/ deploys).
   */
  async publish(
    events: readonly { event: EventEnvelope; options?: PublishOptions }[],
    cause: Context = ROOT_CONTEXT,
  ): Promise<void> {
    const queue = this.sender.entityPath;
    const attributes = { 'messaging.system': 'servicebus', 'messaging.destination.name': queue };
    const parent = continuedContext(cause);
    await inSpan(`send ${queue}`, { kind: SpanKind.CLIENT, attributes, parent }, async (span, underSend) => {
      span.setAttribute('messaging.batch.message_count', events.length);
      await this.sendInBatches(events, queue, underSend);
    });
  }

  private async sendInBatches(
    events: readonly { event: EventEnvelope; options?: PublishOptions }[],
    queue: string,
    parent: Context,
  ): Promise<void> {
    let batch = await this.sender.createMessageBatch();
    for (const { event, options } of events) {
      const message = stampedMessage(event, options, queue, parent);
      if (batch.tryAddMessage(message)) continue;
      // Full: send it and start the next one, which must take the message (unless it is too big alone).
      if (batch.count > 0) {
        await this.sender.sendMessages(batch);
        batch = await this.sender.createMessageBatch();
        if (batch.tryAddMessage(message)) continue;
      }
      throw new Error(
        `Event ${event.eventId} does not fit in one Service Bus message (max ${String(batch.maxSizeInBytes)} bytes).`,
      );
    }
    if (batch.count > 0) await this.sender.sendMessages(batch);
  }

  async close(): Promise<void> {
    await this.sender.close();
  }
}
