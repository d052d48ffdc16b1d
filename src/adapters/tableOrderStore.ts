import type { TableClient } from '@azure/data-tables';
import { z } from 'zod';
import { orderRecordSchema, type OrderRecord } from '../domain/orderRecord';
import { ConcurrencyConflictError, type OrderStore, type StoredOrder } from './ports';
import { lazyTable, statusCodeOf } from './tableClient';

/**
 * The order store on Azure Table Storage: one entity per basket (PartitionKey = basketId,
 * RowKey = "order"). The record is kept as JSON split across string properties, because one
 * property holds at most 64 KiB and one entity at most 1 MiB. Every write is guarded by the ETag
 * read with the record, so a consumer that lost its session lock cannot overwrite newer state.
 */

export const orderRowKey = 'order';
/** UTF-16 code units per property: 32,000 × 2 bytes stays under the 64 KiB property limit. */
export const chunkChars = 32_000;
/** 500,000 code units ≈ 1,000,000 bytes: room for keys and system properties under the 1 MiB entity limit. */
export const maxRecordChars = 500_000;

export class OrderRecordTooLargeError extends Error {
  constructor(basketId: string, chars: number) {
    super(
      `Order ${basketId} serializes to ${String(chars)} characters; Table Storage holds at most ${String(maxRecordChars)} per order (1 MiB entity limit).`,
    );
    this.name = 'OrderRecordTooLargeError';
  }
}

export class CorruptOrderRecordError extends Error {
  constructor(basketId: string, detail: string) {
    super(`Stored order ${basketId} cannot be read: ${detail}`);
    this.name = 'CorruptOrderRecordError';
  }
}

const chunkProperty = (index: number): string => `json${String(index).padStart(2, '0')}`;

/** Splits text into property-sized pieces without cutting a surrogate pair in half. */
export function splitIntoChunks(text: string): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + chunkChars, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    chunks.push(text.slice(start, end));
    start = end;
  }
  return chunks;
}

function toEntity(record: OrderRecord): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  const json = JSON.stringify(record);
  if (json.length > maxRecordChars) throw new OrderRecordTooLargeError(record.basketId, json.length);
  const chunks = splitIntoChunks(json);
  const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
    partitionKey: record.basketId,
    rowKey: orderRowKey,
    // Plain columns so an operator can filter in Storage Explorer without decoding the JSON.
    status: record.status,
    lastAppliedSequence: record.lastAppliedSequence,
    chunks: chunks.length,
  };
  chunks.forEach((chunk, index) => {
    entity[chunkProperty(index)] = chunk;
  });
  return entity;
}

const chunkCountSchema = z.object({ chunks: z.number().int().min(1).max(64) });

function fromEntity(basketId: string, entity: Record<string, unknown>): OrderRecord {
  const header = chunkCountSchema.safeParse(entity);
  if (!header.success) throw new CorruptOrderRecordError(basketId, 'missing chunk count');
  let json = '';
  for (let index = 0; index < header.data.chunks; index++) {
    const chunk = entity[chunkProperty(index)];
    if (typeof chunk !== 'string') throw new CorruptOrderRecordError(basketId, `missing ${chunkProperty(index)}`);
    json += chunk;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new CorruptOrderRecordError(basketId, 'the JSON does not parse');
  }
  const parsed = orderRecordSchema.safeParse(raw);
  if (!parsed.success) {
    throw new CorruptOrderRecordError(basketId, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  if (parsed.data.basketId !== basketId) throw new CorruptOrderRecordError(basketId, `it names basket ${parsed.data.basketId}`);
  return parsed.data;
}

function requireEtag(etag: string | undefined, basketId: string): string {
  if (etag === undefined) throw new Error(`Table Storage returned no ETag for order ${basketId}.`);
  return etag;
}

export class TableOrderStore implements OrderStore {
  private readonly table: () => Promise<TableClient>;

  constructor(client: TableClient) {
    this.table = lazyTable(client);
  }

  async get(basketId: string): Promise<StoredOrder | undefined> {
    const table = await this.table();
    try {
      const entity = await table.getEntity(basketId, orderRowKey);
      return { record: fromEntity(basketId, entity), etag: requireEtag(entity.etag, basketId) };
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
  }

  async create(record: OrderRecord): Promise<string> {
    const entity = toEntity(record);
    const table = await this.table();
    try {
      const response = await table.createEntity(entity);
      return requireEtag(response.etag, record.basketId);
    } catch (error) {
      if (statusCodeOf(error) === 409) throw new ConcurrencyConflictError(record.basketId);
      throw error;
    }
  }

  async replace(record: OrderRecord, etag: string): Promise<string> {
    const entity = toEntity(record);
    const table = await this.table();
    try {
      const response = await table.updateEntity(entity, 'Replace', { etag });
      return requireEtag(response.etag, record.basketId);
    } catch (error) {
      // 412: the ETag no longer matches; 404: the row was deleted under us. Both mean "re-read".
      const status = statusCodeOf(error);
      if (status === 412 || status === 404) throw new ConcurrencyConflictError(record.basketId);
      throw error;
    }
  }
}
