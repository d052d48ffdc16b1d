import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TableClient } from '@azure/data-tables';
import { startAzurite, type AzuriteHandle } from '@convoy/dev-stack';
import { ConcurrencyConflictError, RecordTooLargeError, UnreadableRecordError } from '../../../src/adapters/ports';
import { tableClientFor } from '../../../src/adapters/tableClient';
import { asciiJson, chunkChars, maxJsonChars } from '../../../src/adapters/jsonColumns';
import { TableOrderStore, orderRowKey } from '../../../src/adapters/tableOrderStore';
import type { OrderRecord } from '../../../src/domain/orderRecord';

function recordFor(basketId: string, overrides: Partial<OrderRecord> = {}): OrderRecord {
  return {
    basketId,
    status: 'Open',
    lines: [{ sku: 'SKU-1', quantity: 2, unitPrice: 9.5 }],
    totalMinor: 1900,
    lastAppliedSequence: 1,
    applied: [
      {
        sequence: 1,
        type: 'ItemAdded',
        eventId: `${basketId}:1`,
        occurredAt: '2026-01-01T00:00:00.000Z',
        appliedAt: '2026-01-01T00:00:01.000Z',
        deliveryCount: 1,
        serviceSequenceNumber: '42',
      },
    ],
    parked: [],
    rejected: [],
    duplicates: [],
    createdAt: '2026-01-01T00:00:01.000Z',
    updatedAt: '2026-01-01T00:00:01.000Z',
    ...overrides,
  };
}

describe('TableOrderStore against Azurite', () => {
  let azurite: AzuriteHandle;
  let store: TableOrderStore;
  let raw: TableClient;

  before(async () => {
    azurite = await startAzurite();
    const connection = { kind: 'connectionString' as const, connectionString: azurite.connectionString };
    store = new TableOrderStore(tableClientFor(connection, 'orders'));
    raw = tableClientFor(connection, 'orders');
  });
  after(async () => {
    await azurite.close();
  });

  it('creates the table lazily and reports an unknown basket as absent', async () => {
    assert.equal(await store.get('b-unknown'), undefined);
  });

  it('round-trips a record and hands back the ETag of every write', async () => {
    const record = recordFor('b-round');
    const etag = await store.create(record);
    const loaded = await store.get('b-round');
    assert.ok(loaded);
    assert.deepEqual(loaded.record, record);
    assert.equal(loaded.etag, etag);

    const next = recordFor('b-round', {
      status: 'CheckedOut',
      currency: 'EUR',
      lastAppliedSequence: 2,
      updatedAt: '2026-01-01T00:00:02.000Z',
    });
    const etag2 = await store.replace(next, etag);
    assert.notEqual(etag2, etag);
    const reloaded = await store.get('b-round');
    assert.deepEqual(reloaded?.record, next);
    assert.equal(reloaded.etag, etag2);
  });

  it('refuses a write with a stale ETag and keeps the newer state', async () => {
    const etag = await store.create(recordFor('b-stale'));
    const newer = recordFor('b-stale', { lastAppliedSequence: 2 });
    await store.replace(newer, etag);
    await assert.rejects(
      store.replace(recordFor('b-stale', { lastAppliedSequence: 3 }), etag),
      ConcurrencyConflictError,
    );
    assert.equal((await store.get('b-stale'))?.record.lastAppliedSequence, 2);
  });

  it('lets exactly one of two concurrent creates win', async () => {
    const results = await Promise.allSettled([
      store.create(recordFor('b-race', { lastAppliedSequence: 1 })),
      store.create(recordFor('b-race', { lastAppliedSequence: 7 })),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    assert.ok(lost[0]?.status === 'rejected' && lost[0].reason instanceof ConcurrencyConflictError);
  });

  it('splits a big record across properties and reads it back intact, emoji included', async () => {
    // ~300 KB of JSON: far over the 64 KiB property limit, under the 1 MiB entity limit.
    const applied = Array.from({ length: 1500 }, (_, i) => ({
      sequence: i + 1,
      type: 'ItemAdded' as const,
      eventId: `b-big:${String(i + 1)}`,
      occurredAt: '2026-01-01T00:00:00.000Z',
      appliedAt: '2026-01-01T00:00:01.000Z',
      deliveryCount: 1,
      serviceSequenceNumber: `${String(i)}🙂`,
    }));
    const record = recordFor('b-big', { applied, lastAppliedSequence: 1500 });
    assert.ok(JSON.stringify(record).length > 4 * chunkChars);
    await store.create(record);
    const loaded = await store.get('b-big');
    assert.deepEqual(loaded?.record, record);
    const entity = await raw.getEntity('b-big', orderRowKey);
    assert.ok(typeof entity['chunks'] === 'number' && entity['chunks'] > 4);
  });

  it('round-trips a record just under the limit; Azurite itself refuses a single property over 64 KiB', async () => {
    // Azurite enforces the per-property limit (not the 1 MiB entity limit): this is what the split is for.
    await assert.rejects(
      raw.createEntity({ partitionKey: 'b-prop', rowKey: orderRowKey, big: 'x'.repeat(40_000) }),
      /PropertyValueTooLarge/,
    );
    const entry = {
      reason: 'é'.repeat(1000),
      rejectedAt: '2026-01-01T00:00:00.000Z',
      deliveryCount: 1,
      serviceSequenceNumber: '1',
    };
    const perEntry = asciiJson(entry).length + 1;
    const emptyChars = asciiJson(recordFor('b-max', { rejected: [] })).length;
    const rejected = Array.from({ length: Math.floor((maxJsonChars - emptyChars) / perEntry) }, () => entry);
    const record = recordFor('b-max', { rejected });
    assert.ok(asciiJson(record).length > maxJsonChars - perEntry);
    await store.create(record);
    assert.deepEqual((await store.get('b-max'))?.record, record);
  });

  it('fails with the permanent RecordTooLargeError, before any I/O, when a record would exceed the entity limit', async () => {
    const rejected = Array.from({ length: 3000 }, (_, i) => ({
      sequence: i + 1,
      reason: 'x'.repeat(200),
      rejectedAt: '2026-01-01T00:00:00.000Z',
      deliveryCount: 1,
      serviceSequenceNumber: String(i),
    }));
    const record = recordFor('b-huge', { rejected });
    assert.ok(asciiJson(record).length > maxJsonChars);
    await assert.rejects(store.create(record), RecordTooLargeError);
    assert.equal(await store.get('b-huge'), undefined);
    const small = recordFor('b-huge');
    const etag = await store.create(small);
    await assert.rejects(store.replace({ ...small, rejected }, etag), RecordTooLargeError);
    assert.deepEqual((await store.get('b-huge'))?.record, small);
  });

  it('refuses to load a row that does not hold a valid order record', async () => {
    await raw.createEntity({
      partitionKey: 'b-corrupt',
      rowKey: orderRowKey,
      chunks: 1,
      json00: '{"basketId":"b-corrupt"}',
    });
    await assert.rejects(store.get('b-corrupt'), (error: unknown) => {
      assert.ok(error instanceof UnreadableRecordError, 'a permanent error the handler records, not a transient one');
      assert.match(error.message, /^Stored order b-corrupt cannot be read: /);
      return true;
    });
  });
});
