import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRoute } from '../../../local/host/http/route';

describe('HTTP route templates', () => {
  it('matches literals case-insensitively under the prefix', () => {
    const route = compileRoute('api', 'sessions');
    assert.deepEqual(route.match('/api/sessions'), {});
    assert.deepEqual(route.match('/API/Sessions/'), {});
    assert.equal(route.match('/api/sessions/x'), undefined);
    assert.equal(route.match('/sessions'), undefined);
  });

  it('captures parameters, decodes them, honours constraints and optional segments', () => {
    const route = compileRoute('api', 'orders/{basketId}/items/{n:int}/{name?}');
    assert.deepEqual(route.match('/api/orders/b%2D1/items/3'), { basketId: 'b-1', n: '3' });
    assert.deepEqual(route.match('/api/orders/b-1/items/3/pen'), { basketId: 'b-1', n: '3', name: 'pen' });
    assert.equal(route.match('/api/orders/b-1/items/three'), undefined);
  });

  it('supports catch-all, defaults and an empty prefix', () => {
    assert.deepEqual(compileRoute('api', 'files/{*path}').match('/api/files/a/b/c.txt'), { path: 'a/b/c.txt' });
    assert.deepEqual(compileRoute('', 'page/{n=1}').match('/page'), { n: '1' });
    assert.deepEqual(compileRoute('', 'page/{n=1}').match('/page/4'), { n: '4' });
  });

  it('ranks literal segments above parameters', () => {
    assert.ok(compileRoute('api', 'inventory/all').precedence > compileRoute('api', 'inventory/{sku}').precedence);
  });
});
