import type { TableClient, TableEntityResult } from '@azure/data-tables';
import { z } from 'zod';
import { BadContinuationError, type Page } from './consolePorts';
import type { TableRunner } from './tableClient';

/**
 * One server page of a filtered table query: at most `limit` rows, and the opaque continuation the
 * Table service gives for the next one (it may return fewer rows, even none, with a continuation
 * when a page crosses partitions or runs out of time).
 */

const tokenSchema = z.object({ nextPartitionKey: z.string().min(1), nextRowKey: z.string().optional() });

/** The SDK decodes a continuation without checking it; a bad one is the caller's error, said as such. */
function checkContinuation(continuation: string): void {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(continuation, 'base64').toString('latin1'));
  } catch {
    throw new BadContinuationError('it is not base64 JSON');
  }
  if (!tokenSchema.safeParse(decoded).success) throw new BadContinuationError('it names no next row');
}

export type Row = TableEntityResult<Record<string, unknown>>;

export async function readPage<T>(
  table: TableRunner,
  query: { filter?: string; select?: string[] },
  limit: number,
  continuation: string | undefined,
  parse: (row: Row) => T,
): Promise<Page<T>> {
  if (continuation !== undefined) checkContinuation(continuation);
  return table(async (client: TableClient) => {
    const pages = client
      .listEntities({ queryOptions: query })
      .byPage({ maxPageSize: limit, ...(continuation === undefined ? {} : { continuationToken: continuation }) });
    const first = await pages.next();
    if (first.done === true) return { items: [], rowsRead: 0 };
    const rows = first.value;
    return {
      items: rows.map(parse),
      rowsRead: rows.length,
      ...(rows.continuationToken === undefined ? {} : { continuation: rows.continuationToken }),
    };
  });
}

/** Counts rows matching `filter`, reading keys only and at most `cap` of them. */
export async function countRows(
  table: TableRunner,
  filter: string | undefined,
  cap: number,
): Promise<{ count: number; capped: boolean }> {
  return table(async (client: TableClient) => {
    let count = 0;
    const rows = client.listEntities({
      queryOptions: { ...(filter === undefined ? {} : { filter }), select: ['PartitionKey'] },
    });
    for await (const page of rows.byPage({ maxPageSize: Math.min(1000, cap) })) {
      count += page.length;
      if (count >= cap) return { count: cap, capped: true };
    }
    return { count, capped: false };
  });
}
