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

/** A process-wide instance built on first use; `peek` answers it without building, `reset` forgets it. */
export type Lazy<T> = (() => T) & { peek(): T | undefined; reset(): void };

export function lazy<T>(build: () => T): Lazy<T> {
  let instance: T | undefined;
  return Object.assign(() => (instance ??= build()), {
    peek: () => instance,
    reset: () => {
      instance = undefined;
    },
  });
}

export const orderStore = lazy<OrderStore>(() => {
  const config = getConfig();
  return new TableOrderStore(tableClientFor(config.orderStore, config.ordersTable));
});

/**
 * The convoy's cache of order records and ETags (adapters/orderCache.ts). 10,000 baskets is far
 * above the sessions one instance holds at once (maxConcurrentSessions), and a minute of idleness
 * is longer than a session stays open without a message (sessionIdleTimeout).
 */
export const orderCacheLimits = { maxEntries: 10_000, idleMs: 60_000 };

export const orderCache = lazy(() => new OrderCache(orderCacheLimits));

export const quarantineStore = lazy<QuarantineStore>(() => {
  const config = getConfig();
  return new TableQuarantineStore(tableClientFor(config.orderStore, config.quarantineTable));
});

/** One ServiceBusClient (one AMQP connection) per process, shared by every sender. */
export const serviceBusClient = lazy<ServiceBusClient>(() => serviceBusClientFor(getConfig().serviceBus));

export const eventPublisher = lazy<EventPublisher>(
  () => new ServiceBusEventPublisher(serviceBusClient().createSender(getConfig().orderEventsQueue)),
);

/** The order-events queue's dead-letter sub-queue, over the shared connection. */
export const deadLetterQueue = lazy<DeadLetterQueue>(
  () => new ServiceBusDeadLetterQueue(serviceBusClient, getConfig().orderEventsQueue),
);

/** The same queue for order views: one scan shared by the views of the same second. */
export const deadLettersForViews = lazy<DeadLetterQueue>(() => new SharedDeadLetterScan(deadLetterQueue(), 1_000));

export function now(): Date {
  return new Date();
}

/** Closes the broker connection (used on app termination so the process exits promptly). */
export async function closeDependencies(): Promise<void> {
  const publisher = eventPublisher.peek();
  const client = serviceBusClient.peek();
  for (const dependency of [eventPublisher, serviceBusClient, deadLetterQueue, deadLettersForViews]) dependency.reset();
  await publisher?.close();
  await client?.close();
}
