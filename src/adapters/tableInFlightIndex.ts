import { odata, type TableClient } from '@azure/data-tables';
import { z } from 'zod';
import { orderStatuses } from '../domain/orderRecord';
import type { InFlightRow } from '../domain/stuck';
import type { InFlightIndex, Page } from './consolePorts';
import { lazyTable, statusCodeOf, type TableRunner } from './tableClient';
import { countRows, readPage, type Row } from './tablePaging';

/**
 * The in-flight index on Table Storage: PartitionKey = the start of the basket's last-progress time
 * bucket (ISO 8601, so partitions sort as times), RowKey = basketId. "Which baskets have not moved
 * since T" is then one range query over the oldest partitions, whatever the orders table holds.
 */

const rowSchema = z
  .object({
    partitionKey: z.string(),
    rowKey: z.string(),
    status: z.enum(orderStatuses),
    lastProgressAt: z.string(),
    lastAppliedSequence: z.number().int(),
  })
  .transform(({ partitionKey, rowKey, ...row }): InFlightRow => ({ bucket: partitionKey, basketId: rowKey, ...row }));

export class TableInFlightIndex implements InFlightIndex {
  private readonly table: TableRunner;

  constructor(client: TableClient) {
    this.table = lazyTable(client);
  }

  async put(row: InFlightRow): Promise<void> {
    await this.table((table) =>
      table.upsertEntity(
        {
          partitionKey: row.bucket,
          rowKey: row.basketId,
          status: row.status,
          lastProgressAt: row.lastProgressAt,
          lastAppliedSequence: row.lastAppliedSequence,
        },
        'Replace',
      ),
    );
  }

  async drop(bucket: string, basketId: string): Promise<void> {
    try {
      await this.table((table) => table.deleteEntity(bucket, basketId));
    } catch (error) {
      if (statusCodeOf(error) !== 404) throw error;
    }
  }

  candidates(cutoff: string, limit: number, continuation?: string): Promise<Page<InFlightRow>> {
    return readPage(this.table, { filter: odata`PartitionKey le ${cutoff}` }, limit, continuation, (row: Row) =>
      rowSchema.parse(row),
    );
  }

  countCandidates(cutoff: string, cap: number): Promise<{ count: number; capped: boolean }> {
    return countRows(this.table, odata`PartitionKey le ${cutoff}`, cap);
  }
}
