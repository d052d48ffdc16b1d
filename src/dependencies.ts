import type { ServiceBusClient } from '@azure/service-bus';
import { getConfig } from './config';
import type { DeadLetterQueue, EventPublisher, OrderStore, QuarantineStore } from './adapters/ports';
import { ServiceBusDeadLetterQueue, SharedDeadLetterScan } from './adapters/serviceBusDeadLetters';
import { ServiceBusEventPublisher, serviceBusClientFor } from './adapters/serviceBusPublisher';
import { OrderCache } from './adapters/orderCache';
import { tableClientFor } from './adapters/tableClient';
import { TableOrderStore } from './adapters/tableOrderStore';
import { TableQuarantineStore } from './adapters/tableQuarantineStore';

/**
 * Process-wide adapters, built on first use from the validated config, so importing a function
 * file never touches the network or the settings (the host loads every file at start).
 */

let orderStoreInstance: OrderStore | undefined;
let quarantineStoreInstance: QuarantineStore | undefined;
let serviceBusClientInstance: ServiceBusClient | undefined;
let eventPublisherInstance: EventPublisher | undefined;
let deadLetterQueueInstance: DeadLetterQueue | undefined;
let deadLettersForViewsInstance: DeadLetterQueue | undefined;

export function orderStore(): OrderStore {
  const config = getConfig();
  orderStoreInstance ??= new TableOrderStore(tableClientFor(config.orderStore, config.ordersTable));
  return orderStoreInstance;
}

/**
 * The convoy's cache of order records and ETags (adapters/orderCache.ts). 10,000 baskets is far
 * above the sessions one instance holds at once (maxConcurrentSessions), and a minute of idleness
 * is longer than a session stays open without a message (sessionIdleTimeout).
 */
export const orderCacheLimits = { maxEntries: 10_000, idleMs: 60_000 };
let orderCacheInstance: OrderCache | undefined;

export function orderCache(): OrderCache {
  orderCacheInstance ??= new OrderCache(orderCacheLimits);
  return orderCacheInstance;
}

export function quarantineStore(): QuarantineStore {
  const config = getConfig();
  quarantineStoreInstance ??= new TableQuarantineStore(tableClientFor(config.orderStore, config.quarantineTable));
  return quarantineStoreInstance;
}

/** One ServiceBusClient (one AMQP connection) per process, shared by every sender. */
export function serviceBusClient(): ServiceBusClient {
  serviceBusClientInstance ??= serviceBusClientFor(getConfig().serviceBus);
  return serviceBusClientInstance;
}

export function eventPublisher(): EventPublisher {
  eventPublisherInstance ??= new ServiceBusEventPublisher(
    serviceBusClient().createSender(getConfig().orderEventsQueue),
  );
  return eventPublisherInstance;
}

/** The order-events queue's dead-letter sub-queue, over the shared connection. */
export function deadLetterQueue(): DeadLetterQueue {
  deadLetterQueueInstance ??= new ServiceBusDeadLetterQueue(serviceBusClient, getConfig().orderEventsQueue);
  return deadLetterQueueInstance;
}

/** The same queue for order views: one scan shared by the views of the same second. */
export function deadLettersForViews(): DeadLetterQueue {
  deadLettersForViewsInstance ??= new SharedDeadLetterScan(deadLetterQueue(), 1_000);
  return deadLettersForViewsInstance;
}

export function now(): Date {
  return new Date();
}

/** Closes the broker connection (used on app termination so the process exits promptly). */
export async function closeDependencies(): Promise<void> {
  const publisher = eventPublisherInstance;
  const client = serviceBusClientInstance;
  eventPublisherInstance = undefined;
  serviceBusClientInstance = undefined;
  deadLetterQueueInstance = undefined;
  deadLettersForViewsInstance = undefined;
  await publisher?.close();
  await client?.close();
}
