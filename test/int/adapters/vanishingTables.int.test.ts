import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TableClient } from '@azure/data-tables';
import { startAzurite, type AzuriteHandle } from '@convoy/dev-stack';
import { isTableNotFound, tableClientFor } from '../../../src/adapters/tableClient';
import { TableOrderStore } from '../../../src/adapters/tableOrderStore';
import { TableQuarantineStore } from '../../../src/adapters/tableQuarantineStore';
import type { OrderRecord, QuarantinedMessage } from '../../../src/domain/orderRecord';

/** A table deleted while the app runs (an operator, a storage reset) is created again on next use. */

function order(basketId: string): OrderRecord {
  return {
    basketId,
    status: 'Open',
    lines: [],
    totalMinor: 0,
    lastAppliedSequence: 0,
    applied: [],
    parked: [],
    rejected: [],
    duplicates: [],
    createdAt: '2026-01-01T00:00:01.000Z',
    updatedAt: '2026-01-01T00:00:01.000Z',
  };
}

function quarantined(messageId: string): QuarantinedMessage {
  return {
    messageId,
    reason: 'body is not JSON',
    body: 'not json',
    deliveryCount: 1,
    serviceSequenceNumber: '7',
    quarantinedAt: '2026-01-01T00:00:02.000Z',
  };
}

describe('Table adapters when their table vanishes (Azurite)', () => {
  let azurite: AzuriteHandle;
  const raw = (table: string): TableClient =>
    tableClientFor({ kind: 'connectionString', connectionString: azurite.connectionString }, table);
  const connection = () => ({ kind: 'connectionString' as const, connectionString: azurite.connectionString });

  before(async () => {
    azurite = await startAzurite();
  });
  after(async () => {
    await azurite.close();
  });

  it('Azurite answers TableNotFound for a deleted table, and entity misses are not mistaken for it', async () => {
    const table = raw('probe');
    await table.createTable();
    await assert.rejects(table.getEntity('p', 'missing'), (error) => !isTableNotFound(error));
    await table.deleteTable();
    await assert.rejects(table.getEntity('p', 'r'), (error) => isTableNotFound(error));
  });

  it('the order store recreates its table and goes on (get, create, replace)', async () => {
    const store = new TableOrderStore(tableClientFor(connection(), 'ordersvanish'));
    await store.create(order('b-1'));
    await raw('ordersvanish').deleteTable();

    assert.equal(await store.get('b-1'), undefined, 'the record went with its table');
    const etag = await store.create(order('b-1'));
    await raw('ordersvanish').deleteTable();
    // The row is gone with the table: replacing it is a conflict (re-read), not a TableNotFound error.
    await assert.rejects(store.replace({ ...order('b-1'), lastAppliedSequence: 1 }, etag), /conflict|ETag|changed/i);
    await raw('ordersvanish').deleteTable();
    await store.create(order('b-2'));
    assert.equal((await store.get('b-2'))?.record.basketId, 'b-2');
  });

  it('the quarantine store recreates its table and goes on (add, list, get, remove)', async () => {
    const store = new TableQuarantineStore(tableClientFor(connection(), 'quarantinevanish'));
    await store.add(quarantined('m-1'));
    await raw('quarantinevanish').deleteTable();
    assert.deepEqual(await store.list(10), []);

    await raw('quarantinevanish').deleteTable();
    await store.add(quarantined('m-2'));
    assert.deepEqual(
      (await store.list(10)).map((m) => m.messageId),
      ['m-2'],
    );
    await raw('quarantinevanish').deleteTable();
    assert.equal(await store.get('m-2'), undefined);
    await raw('quarantinevanish').deleteTable();
    await store.remove('m-2');
    await store.add(quarantined('m-3'));
    assert.equal((await store.get('m-3'))?.messageId, 'm-3');
  });
});
