import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '@convoy/dev-stack';
import { ConcurrencyConflictError } from '../../../src/adapters/ports';
import type { TableConnectionConfig } from '../../../src/config';
import { orderViewContract, paidBasket, problemContract, quarantineListContract } from './support/basket';
import { failFastStoresFor, startConvoyHarness, storesFor, type ConvoyHarness } from './support/convoyHarness';
import { startSwitchableProxy, type SwitchableProxy } from './support/switchableProxy';

/**
 * Storage down is transient: the handler must THROW (so the host abandons the message and Service
 * Bus redelivers it, first in its session) and never complete a message it could not record.
 * Table Storage is real Azurite behind a TCP proxy the test takes down and brings back.
 */

function tableEndpointOn(connectionString: string, port: number): string {
  const rewritten = connectionString.replace(
    /TableEndpoint=http:\/\/127\.0\.0\.1:\d+\//,
    `TableEndpoint=http://127.0.0.1:${String(port)}/`,
  );
  assert.notEqual(rewritten, connectionString, 'the connection string names a table endpoint');
  return rewritten;
}

describe('processOrderEvent when Table Storage is down (real Azurite behind a switchable proxy)', () => {
  let h: ConvoyHarness;
  let proxy: SwitchableProxy;
  before(async () => {
    h = await startConvoyHarness();
    proxy = await startSwitchableProxy(h.azurite.tablePort);
  });
  after(async () => {
    await proxy.close();
    await h.close();
  });

  it('throws instead of completing while storage is down, answers 503 on GET; once it is back the redeliveries apply, nothing lost', async () => {
    const stores = failFastStoresFor(tableEndpointOn(h.azurite.connectionString, proxy.port));
    const handler = h.handlerWith(stores.orders, stores.quarantine);
    const events = paidBasket('b-outage');
    for (const body of events.slice(0, 2)) await h.deliver(h.send(body), handler);

    await proxy.down();
    const third = h.send(events[2]);
    const garbled = h.send('not json at all', { sessionId: 'b-outage', messageId: 'garbled-during-outage' });
    await assert.rejects(h.deliver(third, handler), (error: unknown) => !(error instanceof ConcurrencyConflictError));
    await assert.rejects(h.deliver(garbled, handler), 'a poison message is not completed unrecorded either');
    assert.ok(
      h.logs.some((log) => log.level === 'error' && /outcome=retry basket=b-outage sequence=3 /.test(log.line)),
      'the failure is logged with the basket and sequence',
    );

    const order = await h.getOrder('b-outage', stores.orders);
    assert.equal(order.status, 503);
    assert.equal(order.contentType, 'application/problem+json');
    assert.match(problemContract.parse(order.body).detail, /retry/);
    assert.equal((await h.listQuarantine(10, stores.quarantine)).status, 503);

    await proxy.up();
    await h.deliver(h.redelivery(third), handler);
    await h.deliver(h.redelivery(garbled), handler);
    await h.deliver(h.send(events[3]), handler);

    const view = orderViewContract.parse((await h.getOrder('b-outage', stores.orders)).body);
    assert.equal(view.status, 'Paid');
    assert.deepEqual(
      view.applied.map((entry) => [entry.sequence, entry.deliveryCount]),
      [
        [1, 1],
        [2, 1],
        [3, 2],
        [4, 1],
      ],
    );
    assert.deepEqual(view.duplicates, []);
    const listed = quarantineListContract.parse((await h.listQuarantine(100, stores.quarantine)).body);
    assert.deepEqual(
      listed.messages.filter((m) => m.messageId === 'garbled-during-outage').map((m) => [m.body, m.deliveryCount]),
      [['not json at all', 2]],
    );
  });

  it('with the production client (SDK retries), a dead endpoint still ends in a throw, after the SDK backoff', async (t) => {
    const connection: TableConnectionConfig = {
      kind: 'connectionString',
      connectionString: tableEndpointOn(h.azurite.connectionString, await freePort()),
    };
    const dead = storesFor(connection);
    const handler = h.handlerWith(dead.orders, dead.quarantine);
    const started = performance.now();
    await assert.rejects(h.deliver(h.send(paidBasket('b-dead')[0]), handler));
    const heldMs = performance.now() - started;
    // Reported, not asserted (timing): how long one failed delivery holds its session before the abandon.
    t.diagnostic(`a delivery with storage unreachable failed after ${heldMs.toFixed(0)} ms (SDK default retries)`);
  });
});
