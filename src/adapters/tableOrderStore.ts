import type { TableClient } from '@azure/data-tables';
import { orderRecordSchema, type OrderRecord } from '../domain/orderRecord';
import { fromJsonColumns, JsonTooLargeError, toJsonColumns, UnreadableJsonError } from './jsonColumns';
import {
  ConcurrencyConflictError,
  RecordTooLargeError,
  UnreadableRecordError,
  type OrderStore,
  type StoredOrder,
} from './ports';
import { lazyTable, statusCodeOf, type TableRunner } from './tableClient';

/**
 * The order store on Azure Table Storage: one entity per basket (PartitionKey = basketId,
 * RowKey = "order"). The record is kept as JSON split across string properties (jsonColumns.ts):
 * one property holds at most 64 KiB, one entity at most 1 MiB; a bigger record fails with
 * RecordTooLargeError before any I/O (the domain's budget keeps records far below that). Every
 * write is guarded by the ETag
 * read with the record, so a consumer that lost its session lock cannot overwrite newer state.
 */

export const orderRowKey = 'order';

function toEntity(record: OrderRecord): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  let columns: Record<string, string | number>;
  try {
    columns = toJsonColumns(`Order ${record.basketId}`, record);
  } catch (error) {
    if (error instanceof JsonTooLargeError) throw new RecordTooLargeError(error.message);
    throw error;
  }
  return {
    partitionKey: record.basketId,
    rowKey: orderRowKey,
    // Plain columns so an operator can filter in Storage Explorer without decoding the JSON.
    status: record.status,
    lastAppliedSequence: record.lastAppliedSequence,
    ...columns,
  };
}

function fromEntity(basketId: string, entity: Record<string, unknown>): OrderRecord {
  const what = `Stored order ${basketId}`;
  try {
    const parsed = orderRecordSchema.safeParse(fromJsonColumns(what, entity));
    if (!parsed.success) {
      throw new UnreadableJsonError(
        what,
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    }
    if (parsed.data.basketId !== basketId)
      throw new UnreadableJsonError(what, `it names basket ${parsed.data.basketId}`);
    return parsed.data;
  } catch (error) {
    if (error instanceof UnreadableJsonError) throw new UnreadableRecordError(error.message);
    throw error;
  }
}

function requireEtag(etag: string | undefined, basketId: string): string {
  if (etag === undefined) throw new Error(`Table Storage returned no ETag for order ${basketId}.`);
  return etag;
}

export class TableOrderStore implements OrderStore {
  private readonly table: TableRunner;

  constructor(client: TableClient) {
    this.table = lazyTable(client);
  }

  async get(basketId: string): Promise<StoredOrder | undefined> {
    try {
      const entity = await this.table((table) => table.getEntity(basketId, orderRowKey));
      return { record: fromEntity(basketId, entity), etag: requireEtag(entity.etag, basketId) };
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
  }

  async create(record: OrderRecord): Promise<string> {
    const entity = toEntity(record);
    try {
      const response = await this.table((table) => table.createEntity(entity));
      return requireEtag(response.etag, record.basketId);
    } catch (error) {
      if (statusCodeOf(error) === 409) throw new ConcurrencyConflictError(record.basketId);
      throw error;
    }
  }

  async replace(record: OrderRecord, etag: string): Promise<string> {
    const entity = toEntity(record);
    try {
      const response = await this.table((table) => table.updateEntity(entity, 'Replace', { etag }));
      return requireEtag(response.etag, record.basketId);
    } catch (error) {
      // 412: the ETag no longer matches; 404: the row was deleted under us. Both mean "re-read".
      const status = statusCodeOf(error);
      if (status === 412 || status === 404) throw new ConcurrencyConflictError(record.basketId);
      throw error;
    }
  }
}
