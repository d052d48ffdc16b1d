import type { TableClient } from '@azure/data-tables';
import { quarantinedMessageSchema, type QuarantinedMessage } from '../domain/orderRecord';
import { clip } from '../domain/recordBudget';
import { fromJsonColumns, toJsonColumns } from './jsonColumns';
import type { QuarantineStore } from './ports';
import { lazyTable, statusCodeOf, type TableRunner } from './tableClient';

/**
 * Messages that cannot be attributed to an order. RowKey = the message id (base64url, because
 * Table keys forbid "/", "\", "#", "?"), so a redelivered poison message is stored once.
 */

export const quarantinePartitionKey = 'quarantine';
/** Bounds that keep one entity far below the 64 KiB property limit, whatever arrived. */
export const maxBodyChars = 16_000;
export const maxReasonChars = 4_000;
/** list() scans at most this many rows; the quarantine is an operator's inbox, not an archive. */
export const maxScannedRows = 5_000;

export function quarantineRowKey(messageId: string): string {
  return Buffer.from(messageId, 'utf8').toString('base64url');
}

export class TableQuarantineStore implements QuarantineStore {
  private readonly table: TableRunner;

  constructor(client: TableClient) {
    this.table = lazyTable(client);
  }

  async add(message: QuarantinedMessage): Promise<void> {
    const stored: QuarantinedMessage = {
      ...message,
      body: clip(message.body, maxBodyChars),
      reason: clip(message.reason, maxReasonChars),
    };
    const entity = {
      partitionKey: quarantinePartitionKey,
      rowKey: quarantineRowKey(message.messageId),
      quarantinedAt: stored.quarantinedAt,
      ...toJsonColumns(`Quarantined message ${message.messageId}`, stored),
    };
    try {
      await this.table((table) => table.createEntity(entity));
    } catch (error) {
      // Already quarantined by an earlier delivery: the first record stands.
      if (statusCodeOf(error) === 409) return;
      throw error;
    }
  }

  async get(messageId: string): Promise<QuarantinedMessage | undefined> {
    try {
      const row = await this.table((table) => table.getEntity(quarantinePartitionKey, quarantineRowKey(messageId)));
      return quarantinedMessageSchema.parse(fromJsonColumns(`Quarantined row ${row.rowKey ?? ''}`, row));
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
  }

  async remove(messageId: string): Promise<void> {
    try {
      await this.table((table) => table.deleteEntity(quarantinePartitionKey, quarantineRowKey(messageId)));
    } catch (error) {
      if (statusCodeOf(error) === 404) return;
      throw error;
    }
  }

  /** The most recently quarantined messages first. */
  async list(limit: number): Promise<QuarantinedMessage[]> {
    const found = await this.table(async (table) => {
      const scanned: QuarantinedMessage[] = [];
      const rows = table.listEntities({ queryOptions: { filter: `PartitionKey eq '${quarantinePartitionKey}'` } });
      for await (const row of rows) {
        // Only this adapter writes here; a row it cannot read is a bug worth failing loudly on.
        scanned.push(quarantinedMessageSchema.parse(fromJsonColumns(`Quarantined row ${row.rowKey ?? ''}`, row)));
        if (scanned.length >= maxScannedRows) break;
      }
      return scanned;
    });
    found.sort((a, b) => b.quarantinedAt.localeCompare(a.quarantinedAt));
    return found.slice(0, Math.max(0, limit));
  }
}
