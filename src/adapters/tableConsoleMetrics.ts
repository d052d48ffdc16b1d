import { odata, type TableClient } from '@azure/data-tables';
import { z } from 'zod';
import { orderStatuses } from '../domain/orderRecord';
import type { BacklogSample, ConsoleMetricsStore, LiveSlot, Page, StatusCounts, WatchdogSummary } from './consolePorts';
import { lazyTable, statusCodeOf, type TableRunner } from './tableClient';
import { readPage, type Row } from './tablePaging';

/**
 * The console's small metrics table. Partitions:
 * - `slot-<slot start>` / RowKey instance id: what one instance counted in one time slot (it alone
 *   writes its row, so writes never conflict); the overview reads the last few minutes of slots;
 * - `totals` / `baskets`: baskets per status, the sum of every instance's flushed deltas;
 * - `backlog` / ring position: queue backlog samples, a fixed ring (bounded rows);
 * - `watchdog` / `summary`: the last watchdog tick.
 */

const slotPrefix = 'slot-';
// '.' sorts right after '-', so [slot-, slot.) is exactly the slot partitions.
const slotEnd = 'slot.';
const totalsKey = { partitionKey: 'totals', rowKey: 'baskets' } as const;
const watchdogKey = { partitionKey: 'watchdog', rowKey: 'summary' } as const;
const backlogPartition = 'backlog';
const maxCountAttempts = 8;
/** Slots read per overview at most: minutes of window × slots per minute × instances, with room. */
const maxSlotRows = 5_000;

const slotRowSchema = z.object({
  partitionKey: z.string(),
  rowKey: z.string(),
  applied: z.number().int(),
  latency: z.string(),
  heldCalls: z.number().int(),
  flushedAt: z.string(),
});
const histogramSchema = z.record(z.string(), z.number());
const countsRowSchema = z.object(Object.fromEntries(orderStatuses.map((s) => [s, z.number().int().default(0)])));
const backlogRowSchema = z.object({
  at: z.string(),
  active: z.number().int(),
  scheduled: z.number().int(),
  deadLettered: z.number().int(),
});
const watchdogRowSchema = z.object({
  at: z.string(),
  stuckBaskets: z.number().int(),
  inFlight: z.number().int(),
  rowsRead: z.number().int(),
  complete: z.boolean(),
});

function slotOf(row: Row): LiveSlot {
  const parsed = slotRowSchema.parse(row);
  return {
    slot: parsed.partitionKey.slice(slotPrefix.length),
    instanceId: parsed.rowKey,
    applied: parsed.applied,
    latency: histogramSchema.parse(JSON.parse(parsed.latency)),
    heldCalls: parsed.heldCalls,
    flushedAt: parsed.flushedAt,
  };
}

function zeroCounts(): StatusCounts {
  return { Open: 0, CheckedOut: 0, Paid: 0, Fulfilled: 0, Backordered: 0, Blocked: 0 };
}

function countsOf(row: unknown): StatusCounts {
  const parsed = countsRowSchema.parse(row);
  const counts = zeroCounts();
  for (const status of orderStatuses) counts[status] = parsed[status] ?? 0;
  return counts;
}

export class TableConsoleMetrics implements ConsoleMetricsStore {
  private readonly table: TableRunner;

  constructor(client: TableClient) {
    this.table = lazyTable(client);
  }

  async writeSlot(slot: LiveSlot): Promise<void> {
    await this.table((table) =>
      table.upsertEntity(
        {
          partitionKey: `${slotPrefix}${slot.slot}`,
          rowKey: slot.instanceId,
          applied: slot.applied,
          latency: JSON.stringify(slot.latency),
          heldCalls: slot.heldCalls,
          flushedAt: slot.flushedAt,
        },
        'Replace',
      ),
    );
  }

  async readSlots(fromSlot: string): Promise<Page<LiveSlot>> {
    const filter = odata`PartitionKey ge ${slotPrefix + fromSlot} and PartitionKey lt ${slotEnd}`;
    return this.table(async (table) => {
      const items: LiveSlot[] = [];
      for await (const row of table.listEntities({ queryOptions: { filter } })) {
        items.push(slotOf(row));
        if (items.length >= maxSlotRows) break;
      }
      return { items, rowsRead: items.length };
    });
  }

  /** Read, add, replace if the ETag still matches; another instance's flush in between means read again. */
  async addStatusCounts(delta: Partial<StatusCounts>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.table(async (table) => {
          let current: { counts: StatusCounts; etag: string } | undefined;
          try {
            const row = await table.getEntity(totalsKey.partitionKey, totalsKey.rowKey);
            current = { counts: countsOf(row), etag: row.etag };
          } catch (error) {
            if (statusCodeOf(error) !== 404) throw error;
          }
          const counts = current?.counts ?? zeroCounts();
          for (const status of orderStatuses) counts[status] += delta[status] ?? 0;
          const entity = { ...totalsKey, ...counts };
          if (current === undefined) await table.createEntity(entity);
          else await table.updateEntity(entity, 'Replace', { etag: current.etag });
        });
        return;
      } catch (error) {
        const status = statusCodeOf(error);
        if ((status !== 412 && status !== 409) || attempt >= maxCountAttempts) throw error;
      }
    }
  }

  async readStatusCounts(): Promise<StatusCounts> {
    try {
      const row = await this.table((table) => table.getEntity(totalsKey.partitionKey, totalsKey.rowKey));
      return countsOf(row);
    } catch (error) {
      if (statusCodeOf(error) === 404) return zeroCounts();
      throw error;
    }
  }

  async writeBacklogSample(position: number, sample: BacklogSample): Promise<void> {
    await this.table((table) =>
      table.upsertEntity(
        { partitionKey: backlogPartition, rowKey: String(position).padStart(4, '0'), ...sample },
        'Replace',
      ),
    );
  }

  readBacklogSamples(): Promise<Page<BacklogSample>> {
    return readPage(this.table, { filter: odata`PartitionKey eq ${backlogPartition}` }, 1000, undefined, (row) =>
      backlogRowSchema.parse(row),
    );
  }

  async writeWatchdogSummary(summary: WatchdogSummary): Promise<void> {
    await this.table((table) => table.upsertEntity({ ...watchdogKey, ...summary }, 'Replace'));
  }

  async readWatchdogSummary(): Promise<WatchdogSummary | undefined> {
    try {
      const row = await this.table((table) => table.getEntity(watchdogKey.partitionKey, watchdogKey.rowKey));
      return watchdogRowSchema.parse(row);
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
  }

  async deleteSlotsBefore(beforeSlot: string, max: number): Promise<number> {
    const filter = odata`PartitionKey ge ${slotPrefix} and PartitionKey lt ${slotPrefix + beforeSlot}`;
    return this.table(async (table) => {
      let deleted = 0;
      const rows = table.listEntities({ queryOptions: { filter, select: ['PartitionKey', 'RowKey'] } });
      for await (const row of rows) {
        if (deleted >= max) break;
        try {
          await table.deleteEntity(row.partitionKey ?? '', row.rowKey ?? '');
        } catch (error) {
          if (statusCodeOf(error) !== 404) throw error;
        }
        deleted++;
      }
      return deleted;
    });
  }
}
