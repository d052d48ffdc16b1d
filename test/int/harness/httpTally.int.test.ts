import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAzurite, type AzuriteHandle } from '@convoy/dev-stack';
import { tableClientFor } from '../../../src/adapters/tableClient';
import { TableOrderStore } from '../../../src/adapters/tableOrderStore';
import { newOrderRecord } from '../../../src/domain/convoy';
import { tablePortOf, tallyDelta, tallyOutgoingHttp } from '../../harness/httpTally';

/**
 * The bench's wire count (test/harness/httpTally.ts) against the real Table SDK on Azurite and real
 * HTTP requests shaped as the durable client sends them: each request is counted once, as its kind.
 */

describe('httpTally: what the bench counts on the wire', { timeout: 60_000 }, () => {
  let azurite: AzuriteHandle;
  let durable: Server;
  let tally: () => Record<string, number>;
  before(async () => {
    azurite = await startAzurite();
    tally = tallyOutgoingHttp(tablePortOf(azurite.connectionString));
    durable = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => durable.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await new Promise((resolve) => durable.close(resolve));
    await azurite.close();
  });

  it('finds the table port in an Azurite connection string', () => {
    assert.equal(tablePortOf(azurite.connectionString), azurite.tablePort);
  });

  it('counts order reads, creates and replaces by table, and table creation apart', async () => {
    const store = new TableOrderStore(
      tableClientFor({ kind: 'connectionString', connectionString: azurite.connectionString }, 'tallied'),
    );
    const before = tally();
    assert.equal(await store.get('b-1'), undefined);
    const record = newOrderRecord('b-1', '2026-12-07T00:00:00.000Z');
    const etag = await store.create(record);
    await store.replace(record, etag);
    assert.deepEqual(tallyDelta(before, tally()), {
      'table:-:setup': 1,
      'table:tallied:read': 1,
      'table:tallied:create': 1,
      'table:tallied:write': 1,
    });
  });

  it('counts durable client starts apart from status reads', async () => {
    const { port } = durable.address() as AddressInfo;
    const send = (method: string, path: string): Promise<void> =>
      new Promise((resolve, reject) => {
        request({ host: '127.0.0.1', port, method, path }, (res) => res.resume().on('end', resolve))
          .on('error', reject)
          .end();
      });
    const before = tally();
    await send('GET', '/durabletask/instances/fulfill-b-1?taskHub=ConvoyHub');
    await send('POST', '/durabletask/orchestrators/fulfillOrder/fulfill-b-1');
    await send('GET', '/api/orders/b-1');
    assert.deepEqual(tallyDelta(before, tally()), {
      'durable:status': 1,
      'durable:start': 1,
      'http:other': 1,
    });
  });
});
