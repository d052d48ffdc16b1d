import { randomUUID } from 'node:crypto';
import { odata } from '@azure/data-tables';
import type { ServiceBusAdministrationClient } from '@azure/service-bus';
import { getConfig } from './config';
import { lazy, now } from './dependencies';
import { ConsoleProjection, type OrderProgressSink } from './adapters/consoleProjection';
import type { BasketListing, ConsoleMetricsStore, InFlightIndex, QueueBacklog } from './adapters/consolePorts';
import { LiveMetrics } from './adapters/liveMetrics';
import { administrationClientFor, ServiceBusQueueBacklog } from './adapters/serviceBusBacklog';
import { TableBasketListing } from './adapters/tableBasketListing';
import { lazyTable, tableClientFor, type TableRunner } from './adapters/tableClient';
import { countRows } from './adapters/tablePaging';
import { quarantinePartitionKey } from './adapters/tableQuarantineStore';
import { TableConsoleMetrics } from './adapters/tableConsoleMetrics';
import { TableInFlightIndex } from './adapters/tableInFlightIndex';

/**
 * Process-wide adapters of the operator's console and the stuck-basket watchdog, built on first use
 * (./dependencies `lazy`), so importing a function file touches neither the network nor the settings.
 */

export const inFlightIndex = lazy<InFlightIndex>(() => {
  const config = getConfig();
  return new TableInFlightIndex(tableClientFor(config.orderStore, config.inFlightTable));
});

export const consoleMetrics = lazy<ConsoleMetricsStore>(() => {
  const config = getConfig();
  return new TableConsoleMetrics(tableClientFor(config.orderStore, config.consoleMetricsTable));
});

/** This process's live counts; its random id names its rows in the metrics table. */
export const liveMetrics = lazy(() => new LiveMetrics(consoleMetrics, now, randomUUID()));

export const orderProgress = lazy<OrderProgressSink>(
  () => new ConsoleProjection(inFlightIndex, liveMetrics(), () => getConfig().inFlightBucketMs),
);

export const basketListing = lazy<BasketListing>(() => {
  const config = getConfig();
  return new TableBasketListing(tableClientFor(config.orderStore, config.ordersTable));
});

const administrationClient = lazy<ServiceBusAdministrationClient>(() =>
  administrationClientFor(getConfig().serviceBus),
);

export const queueBacklog = lazy<QueueBacklog>(
  () => new ServiceBusQueueBacklog(administrationClient, getConfig().orderEventsQueue),
);

const quarantineRows = lazy<TableRunner>(() => {
  const config = getConfig();
  return lazyTable(tableClientFor(config.orderStore, config.quarantineTable));
});

/** Counts quarantined messages by their keys only, up to `cap`. */
export function quarantineCount(cap: number): Promise<{ count: number; capped: boolean }> {
  return countRows(quarantineRows(), odata`PartitionKey eq ${quarantinePartitionKey}`, cap);
}
