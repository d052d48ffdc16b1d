import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { finalStatuses, publishBaskets, waitForOrders, type OrderView } from '../harness/convoyClient';
import { appRoot, startStack, type Stack } from '../harness/stack';
import { assertConvoyExact } from './support/convoyAssertions';

/**
 * Basket ids the Functions library turns into numbers or booleans when it JSON-parses the session id
 * ("1.50" → 1.5, 20 digits → a rounded double, "1e309" → Infinity, "1e-400" → 0) go through the whole
 * stack: producer, emulator, local host and the real @azure/functions conversion, fulfillment and the
 * order view.
 */

const hostJson: unknown = JSON.parse(readFileSync(join(appRoot, 'host.json'), 'utf8'));
const isFinal = (order: OrderView | undefined): boolean => order !== undefined && finalStatuses.has(order.status);
const ids = [
  '1e3',
  '1.50',
  '2.0',
  '0.0',
  'true',
  'null',
  '12345678901234567890',
  '12345678901234567891',
  '1e309',
  '1e-400',
  '9007199254740993',
];

describe('basket ids that look like JSON, end to end', { timeout: 120_000 }, () => {
  let stack: Stack | undefined;
  before(async () => {
    stack = await startStack({ hostJson });
  });
  // A protocol error drops every session on its connection: the test in which the stack printed one fails.
  afterEach(() => {
    stack?.assertNoProtocolErrors();
  });
  after(async () => {
    await stack?.stop();
  });

  it(`${ids.join(', ')} are each fulfilled with their own applied log`, async () => {
    assert.ok(stack !== undefined);
    const { host } = stack;
    const baskets = ids.map((basketId) => ({
      basketId,
      currency: 'EUR',
      items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 2 }],
    }));
    const response = await publishBaskets(host.url, { baskets, interleave: true });
    const published = new Map(response.baskets.map((b) => [b.basketId, b.events]));
    assert.deepEqual([...published.keys()], ids);
    const orders = await waitForOrders(host.url, ids, isFinal, 60_000);
    assertConvoyExact(orders, published);
    const quarantine = (await (await fetch(`${host.url}/api/quarantine?limit=100`)).json()) as { count: number };
    assert.equal(quarantine.count, 0, 'quarantined');
  });
});
