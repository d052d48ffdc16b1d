import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OrderCache } from '../../../src/adapters/orderCache';
import type { StoredOrder } from '../../../src/adapters/ports';
import type { OrderRecord } from '../../../src/domain/orderRecord';
import { orderCacheLimits } from '../../../src/dependencies';

/** Only identity matters to the cache: it never looks inside a record. */
function stored(basketId: string, etag = `W/"${basketId}"`): StoredOrder {
  return { record: { basketId } as unknown as OrderRecord, etag };
}

describe('OrderCache', () => {
  it('holds at most maxEntries at 100,000 baskets, keeping the most recently used', () => {
    const cache = new OrderCache(orderCacheLimits);
    let largest = 0;
    for (let i = 0; i < 100_000; i++) {
      cache.set(`b-${String(i)}`, stored(`b-${String(i)}`));
      // Basket 0 is used all along, so it is never the least recently used one.
      if (i % 1000 === 0) assert.ok(cache.get('b-0'));
      largest = Math.max(largest, cache.size);
    }
    assert.equal(largest, orderCacheLimits.maxEntries);
    assert.equal(cache.size, orderCacheLimits.maxEntries);
    assert.equal(cache.get('b-1'), undefined, 'an old, unused basket was dropped');
    assert.equal(cache.get('b-99999')?.etag, 'W/"b-99999"');
    assert.ok(cache.get('b-0'), 'a basket in use stays');
  });

  it('drops an entry unused for idleMs, and keeps one that was used', () => {
    let now = 0;
    const cache = new OrderCache({ maxEntries: 10, idleMs: 1_000, nowMs: () => now });
    cache.set('idle', stored('idle'));
    cache.set('busy', stored('busy'));
    now = 600;
    assert.ok(cache.get('busy'));
    now = 1_200;
    assert.equal(cache.get('idle'), undefined);
    assert.equal(cache.get('busy')?.etag, 'W/"busy"');
    assert.equal(cache.size, 1);
  });

  it('replaces an entry on set and forgets it on forget', () => {
    const cache = new OrderCache({ maxEntries: 10, idleMs: 1_000 });
    cache.set('b', stored('b', 'W/"1"'));
    cache.set('b', stored('b', 'W/"2"'));
    assert.equal(cache.get('b')?.etag, 'W/"2"');
    cache.forget('b');
    assert.equal(cache.get('b'), undefined);
  });

  it('refuses limits that cannot bound it', () => {
    assert.throws(() => new OrderCache({ maxEntries: 0, idleMs: 1_000 }), /maxEntries/);
    assert.throws(() => new OrderCache({ maxEntries: 10, idleMs: Number.NaN }), /idleMs/);
  });
});
