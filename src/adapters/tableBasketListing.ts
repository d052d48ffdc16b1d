import { odata, type TableClient } from '@azure/data-tables';
import { z } from 'zod';
import { orderStatuses, type OrderStatus } from '../domain/orderRecord';
import type { BasketListing, BasketSummary, Page } from './consolePorts';
import { lazyTable, type TableRunner } from './tableClient';
import { orderRowKey } from './tableOrderStore';
import { readPage, type Row } from './tablePaging';

/**
 * Baskets from the orders table by the plain columns the order store writes next to the record
 * (status, lastAppliedSequence), selected so a page never carries the records' JSON. The entity's
 * Timestamp is when the record was last saved.
 */

const summarySchema = z
  .object({
    partitionKey: z.string(),
    status: z.enum(orderStatuses),
    lastAppliedSequence: z.number().int(),
    timestamp: z.string(),
  })
  .transform((row): BasketSummary => ({
    basketId: row.partitionKey,
    status: row.status,
    lastAppliedSequence: row.lastAppliedSequence,
    updatedAt: row.timestamp,
  }));

export class TableBasketListing implements BasketListing {
  private readonly table: TableRunner;

  constructor(client: TableClient) {
    this.table = lazyTable(client);
  }

  list(status: OrderStatus | undefined, limit: number, continuation?: string): Promise<Page<BasketSummary>> {
    const filter =
      status === undefined ? odata`RowKey eq ${orderRowKey}` : odata`RowKey eq ${orderRowKey} and status eq ${status}`;
    return readPage(
      this.table,
      { filter, select: ['PartitionKey', 'status', 'lastAppliedSequence', 'Timestamp'] },
      limit,
      continuation,
      (row: Row) => summarySchema.parse(row),
    );
  }
}
