import type { HttpTally } from '../../test/harness/httpTally';

/**
 * What one applied event costs on the wire, from the host's outgoing HTTP tally over the measured
 * burst (test/harness/httpTally.ts), divided by the consumer calls that succeeded. Table names are
 * src/config.ts's defaults, which the bench does not override.
 *
 * The hot path is the order row: what every event pays, inside its session lock. The in-flight
 * index is written on a basket's transitions (in, across a time bucket, out: about two per basket
 * whatever its length) and the live metrics once per flush interval, so both are shown apart.
 */
export interface EventCost {
  appliedEvents: number;
  /** Every table request (all tables, all kinds): the storage round trips. */
  storageRoundTrips: number;
  /** Order-row requests (reads and writes): the per-event hot path. */
  hotPath: number;
  orderReads: number;
  /** create, replace, delete of order rows. */
  orderWrites: number;
  /** Writes to the console's in-flight index (per basket transition). */
  indexWrites: number;
  /** Writes to the console's live-metrics table (per flush interval). */
  metricsWrites: number;
  /** Every other table request: queries, table creation, quarantine, batches. */
  otherTable: number;
  /** Blob and queue requests (the durable backend and host use none in the bench; counted to show it). */
  otherStorage: number;
  durableStarts: number;
  /** Durable client calls other than starts (status reads, …). */
  durableOther: number;
}

const tables = { orders: 'orders', inFlight: 'inflight', metrics: 'consolemetrics' };

export function eventCost(tally: HttpTally, appliedEvents: number): EventCost {
  const sum = {
    storage: 0,
    reads: 0,
    writes: 0,
    index: 0,
    metrics: 0,
    other: 0,
    otherStorage: 0,
    starts: 0,
    durable: 0,
  };
  for (const [key, count] of Object.entries(tally)) {
    const [target, table, op] = key.split(':');
    if (target === 'table') {
      sum.storage += count;
      if (table === tables.orders && op === 'read') sum.reads += count;
      else if (table === tables.orders && op !== 'query') sum.writes += count;
      else if (table === tables.inFlight && op !== 'read' && op !== 'query') sum.index += count;
      else if (table === tables.metrics && op !== 'read' && op !== 'query') sum.metrics += count;
      else sum.other += count;
    } else if (target === 'storage') sum.otherStorage += count;
    else if (key === 'durable:start') sum.starts += count;
    else if (target === 'durable') sum.durable += count;
  }
  const per = (n: number): number => (appliedEvents === 0 ? Number.NaN : n / appliedEvents);
  return {
    appliedEvents,
    storageRoundTrips: per(sum.storage),
    hotPath: per(sum.reads + sum.writes),
    orderReads: per(sum.reads),
    orderWrites: per(sum.writes),
    indexWrites: per(sum.index),
    metricsWrites: per(sum.metrics),
    otherTable: per(sum.other),
    otherStorage: per(sum.otherStorage),
    durableStarts: per(sum.starts),
    durableOther: per(sum.durable),
  };
}
