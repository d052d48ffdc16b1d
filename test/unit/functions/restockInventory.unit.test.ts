import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HttpRequest, type HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { makeGetInventory } from '../../../src/functions/getInventory';
import { makeRestockInventory } from '../../../src/functions/restockInventory';
import { startDurableExtensionStub, type DurableExtensionStub } from '../../support/durableExtensionStub';

const problemSchema = z.object({
  status: z.number(),
  detail: z.string(),
  errors: z.array(z.object({ path: z.string() })).optional(),
});

function problemOf(response: HttpResponseInit) {
  assert.equal(new Headers(response.headers).get('content-type'), 'application/problem+json');
  return problemSchema.parse(response.jsonBody);
}

describe('restockInventory and getInventory (real durable client, stand-in extension on 127.0.0.1)', () => {
  let extension: DurableExtensionStub;
  const restock = makeRestockInventory();
  const getInventory = makeGetInventory({ defaultStock: () => 1000 });

  before(async () => {
    extension = await startDurableExtensionStub();
  });
  after(async () => {
    await extension.close();
  });
  beforeEach(() => {
    extension.reset();
  });

  const post = (sku: string, body: string) =>
    restock(
      new HttpRequest({
        method: 'POST',
        url: `http://localhost/api/inventory/${sku}/restock`,
        params: { sku },
        body: { string: body },
      }),
      extension.contextFor('restockInventory'),
    );
  const get = (sku: string) =>
    getInventory(
      new HttpRequest({ method: 'GET', url: `http://localhost/api/inventory/${sku}`, params: { sku } }),
      extension.contextFor('getInventory'),
    );

  it('signals the SKU entity with restock {quantity} and answers 202', async () => {
    const response = await post('SKU-1', JSON.stringify({ quantity: 25 }));
    assert.equal(response.status, 202);
    assert.deepEqual(response.jsonBody, { sku: 'SKU-1', quantity: 25, statusUrl: '/api/inventory/SKU-1' });
    assert.equal(extension.requests.length, 1);
    const [signal] = extension.requests;
    assert.equal(signal?.method, 'POST');
    assert.equal(signal.path, 'entities/inventory/SKU-1');
    assert.equal(signal.query['op'], 'restock');
    assert.deepEqual(JSON.parse(signal.body), { quantity: 25 });
  });

  it('answers 400 naming the field for a bad quantity or SKU, and signals nothing', async () => {
    const quantity = problemOf(await post('SKU-1', JSON.stringify({ quantity: 0 })));
    assert.equal(quantity.status, 400);
    assert.deepEqual(
      quantity.errors?.map((e) => e.path),
      ['quantity'],
    );
    const sku = problemOf(await post('bad sku!', JSON.stringify({ quantity: 1 })));
    assert.deepEqual(
      sku.errors?.map((e) => e.path),
      ['sku'],
    );
    assert.equal(problemOf(await post('SKU-1', 'nope')).status, 400);
    assert.equal(extension.requests.length, 0);
  });

  it('answers 503 when the extension refuses the signal', async () => {
    extension.failWith = 500;
    assert.equal(problemOf(await post('SKU-1', JSON.stringify({ quantity: 1 }))).status, 503);
  });

  it('reads the entity state: available, reserved total, number of reservations and units sold', async () => {
    extension.entities.set('inventory/SKU-2', {
      available: 7,
      reservations: { 'b-1': 2, 'b-2': 1 },
      sold: 11,
      committed: ['b-0'],
    });
    const response = await get('SKU-2');
    assert.equal(response.status, 200);
    assert.deepEqual(response.jsonBody, {
      sku: 'SKU-2',
      available: 7,
      reserved: 3,
      reservations: 2,
      sold: 11,
      initialized: true,
    });
  });

  it('reads state saved before commit existed as nothing sold yet', async () => {
    extension.entities.set('inventory/SKU-4', { available: 3, reservations: { 'b-1': 2 } });
    const response = await get('SKU-4');
    assert.deepEqual(response.jsonBody, {
      sku: 'SKU-4',
      available: 3,
      reserved: 2,
      reservations: 1,
      sold: 0,
      initialized: true,
    });
  });

  it('reports the configured default stock for a SKU no one has touched', async () => {
    const response = await get('SKU-9');
    assert.deepEqual(response.jsonBody, {
      sku: 'SKU-9',
      available: 1000,
      reserved: 0,
      reservations: 0,
      sold: 0,
      initialized: false,
    });
  });

  it('answers 503 rather than inventing numbers when the stored state is not inventory state', async () => {
    extension.entities.set('inventory/SKU-3', { stock: 'lots' });
    assert.equal(problemOf(await get('SKU-3')).status, 503);
  });
});
