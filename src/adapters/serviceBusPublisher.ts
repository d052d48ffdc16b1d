import { ServiceBusClient, type ServiceBusMessage, type ServiceBusSender } from '@azure/service-bus';
import type { ServiceBusConnectionConfig } from '../config';
import type { EventEnvelope } from '../domain/events';
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

/** The wire form of one event: every property a consumer (or an operator peeking) relies on. */
export function toServiceBusMessage(event: EventEnvelope, options: PublishOptions = {}): ServiceBusMessage {
  return {
    body: event,
    contentType: 'application/json',
    messageId: event.eventId,
    sessionId: event.basketId,
    subject: event.type,
    applicationProperties: { eventType: event.type, sequence: event.sequence, basketId: event.basketId },
    ...(options.notBefore === undefined ? {} : { scheduledEnqueueTimeUtc: options.notBefore }),
  };
}

export class ServiceBusEventPublisher implements EventPublisher {
  constructor(private readonly sender: ServiceBusSender) {}

  /**
   * Sends in as few batches as fit, one batch at a time, so the broker enqueues the events in the
   * order given. Batches mix sessions: fine for a non-partitioned queue (what infra/ deploys).
   */
  async publish(events: readonly { event: EventEnvelope; options?: PublishOptions }[]): Promise<void> {
    let batch = await this.sender.createMessageBatch();
    for (const { event, options } of events) {
      const message = toServiceBusMessage(event, options);
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
