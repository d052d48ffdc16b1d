import { randomUUID } from 'node:crypto';
import { odata } from '@azure/data-tables';
import type { ServiceBusAdministrationClient } from '@azure/service-bus';
import { getConfig } from './config';
import { now } from './dependencies';
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
 * (like ./dependencies), so importing a function file touches neither the network nor the settings.
 */

let inFlightIndexInstance: InFlightIndex | undefined;
let consoleMetricsInstance: ConsoleMetricsStore | undefined;
let liveMetricsInstance: LiveMetrics | undefined;
let projectionInstance: OrderProgressSink | undefined;
let basketListingInstance: BasketListing | undefined;
let administrationClientInstance: ServiceBusAdministrationClient | undefined;
let queueBacklogInstance: QueueBacklog | undefined;

export function inFlightIndex(): InFlightIndex {
  const config = getConfig();
  inFlightIndexInstance ??= new TableInFlightIndex(tableClientFor(config.orderStore, config.inFlightTable));
  return inFlightIndexInstance;
}

export function consoleMetrics(): ConsoleMetricsStore {
  const config = getConfig();
  consoleMetricsInstance ??= new TableConsoleMetrics(tableClientFor(config.orderStore, config.consoleMetricsTable));
  return consoleMetricsInstance;
}

/** This process's live counts; its random id names its rows in the metrics table. */
export function liveMetrics(): LiveMetrics {
  liveMetricsInstance ??= new LiveMetrics(consoleMetrics, now, randomUUID());
  return liveMetricsInstance;
}

export function orderProgress(): OrderProgressSink {
  projectionInstance ??= new ConsoleProjection(inFlightIndex, liveMetrics(), () => getConfig().inFlightBucketMs);
  return projectionInstance;
}

export function basketListing(): BasketListing {
  const config = getConfig();
  basketListingInstance ??= new TableBasketListing(tableClientFor(config.orderStore, config.ordersTable));
  return basketListingInstance;
}

export function queueBacklog(): QueueBacklog {
  queueBacklogInstance ??= new ServiceBusQueueBacklog(() => {
    administrationClientInstance ??= administrationClientFor(getConfig().serviceBus);
    return administrationClientInstance;
  }, getConfig().orderEventsQueue);
  return queueBacklogInstance;
}

let quarantineRowsInstance: TableRunner | undefined;

/** Counts quarantined messages by their keys only, up to `cap`. */
export function quarantineCount(cap: number): Promise<{ count: number; capped: boolean }> {
  const config = getConfig();
  quarantineRowsInstance ??= lazyTable(tableClientFor(config.orderStore, config.quarantineTable));
  return countRows(quarantineRowsInstance, odata`PartitionKey eq ${quarantinePartitionKey}`, cap);
}
