import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRequestTarget, removeDotSegments } from '../../src/host/http/requestTarget';
import { compileRoute } from '../../src/host/http/route';
import { chooseRoute, type HttpFunction } from '../../src/host/http/server';

const fn = (name: string, route: string, methods?: string[]): HttpFunction => ({
  name,
  route: compileRoute('api', route),
  methods,
});

describe('HTTP route templates', () => {
  it('matches literals case-insensitively under the prefix', () => {
    const route = compileRoute('api', 'sessions');
    assert.deepEqual(route.match('/api/sessions'), {});
    assert.deepEqual(route.match('/API/Sessions/'), {});
    assert.equal(route.match('/api/sessions/x'), undefined);
    assert.equal(route.match('/sessions'), undefined);
  });

  it('captures parameters as the (already decoded) path has them, honours constraints and optional segments', () => {
    const route = compileRoute('api', 'orders/{basketId}/items/{n:int}/{name?}');
    assert.deepEqual(route.match('/api/orders/a%2Fb/items/3'), { basketId: 'a%2Fb', n: '3' });
    assert.deepEqual(route.match('/api/orders/b-1/items/3/pen'), { basketId: 'b-1', n: '3', name: 'pen' });
    assert.equal(route.match('/api/orders/b-1/items/three'), undefined);
  });

  it('supports catch-all, defaults and an empty prefix', () => {
    assert.deepEqual(compileRoute('api', 'files/{*path}').match('/api/files/a/b/c.txt'), { path: 'a/b/c.txt' });
    assert.deepEqual(compileRoute('', 'page/{n=1}').match('/page'), { n: '1' });
    assert.deepEqual(compileRoute('', 'page/{n=1}').match('/page/4'), { n: '4' });
  });
});

describe('route order: the host tries routes in function-name order, first fit wins', () => {
  const routes = [
    fn('getOrder', 'orders/{basketId}', ['GET']),
    fn('listAll', 'orders/all', ['GET']),
    fn('z_unmatchedRoute', '{*path}'),
  ];

  it('does not rank templates: a parameter route whose name sorts first shadows a literal one', () => {
    assert.equal(chooseRoute(routes, '/api/orders/all', 'GET')?.fn.name, 'getOrder');
    assert.deepEqual(chooseRoute(routes, '/api/orders/all', 'GET')?.params, { basketId: 'all' });
  });

  it('a catch-all named to sort last answers only what no other route takes, methods included', () => {
    assert.equal(chooseRoute(routes, '/api/orders/b-1', 'GET')?.fn.name, 'getOrder');
    assert.equal(chooseRoute(routes, '/api/orders/b-1', 'DELETE')?.fn.name, 'z_unmatchedRoute');
    assert.deepEqual(chooseRoute(routes, '/api/nope/x', 'GET')?.params, { path: 'nope/x' });
    assert.equal(chooseRoute(routes, '/api', 'GET')?.fn.name, 'z_unmatchedRoute');
    assert.equal(chooseRoute(routes, '/other', 'GET'), undefined);
  });

  it('the same catch-all named to sort first answers everything (why its name starts with z_)', () => {
    const shadowing = [...routes.slice(0, 2), fn('catchAll', '{*path}')];
    assert.equal(chooseRoute(shadowing, '/api/orders/b-1', 'GET')?.fn.name, 'catchAll');
  });

  it('orders names as OrdinalIgnoreCase does: upper-cased, by code unit (_ above Z)', () => {
    const names = [fn('zebra', 'x'), fn('Z_last', 'x'), fn('apple', 'x'), fn('Zulu', 'x')];
    assert.equal(chooseRoute(names, '/api/x', 'GET')?.fn.name, 'apple');
    assert.equal(chooseRoute(names.slice(0, 2), '/api/x', 'GET')?.fn.name, 'zebra');
    assert.equal(
      chooseRoute(
        [names[1], names[3]].filter((n) => n !== undefined),
        '/api/x',
        'GET',
      )?.fn.name,
      'Zulu',
    );
  });
});

describe('request target as Kestrel hands it to routing', () => {
  it('refuses %00 anywhere in the path, not in the query', () => {
    assert.equal(parseRequestTarget('/api/orders/a%00b').ok, false);
    assert.equal(parseRequestTarget('/api/orders/%00').ok, false);
    assert.deepEqual(parseRequestTarget('/api/orders/a?x=%00'), { ok: true, path: '/api/orders/a', query: '?x=%00' });
  });

  it('decodes escapes except %2F, keeps invalid ones as written, then removes dot segments', () => {
    const path = (target: string) => {
      const parsed = parseRequestTarget(target);
      assert.ok(parsed.ok, target);
      return parsed.path;
    };
    assert.equal(path('/api/orders/b%2D1'), '/api/orders/b-1');
    assert.equal(path('/api/orders/a%2Fb'), '/api/orders/a%2Fb');
    assert.equal(path('/api/orders/%zz'), '/api/orders/%zz');
    assert.equal(path('/api/orders/%C3%A9'), '/api/orders/é');
    assert.equal(path('/api/orders/%C3'), '/api/orders/%C3');
    assert.equal(path('/api/orders/%C0%AE'), '/api/orders/%C0%AE'); // overlong '.'
    assert.equal(path('/api/orders/..'), '/api/');
    assert.equal(path('/api/orders/%2e%2E'), '/api/');
    assert.equal(path('/api/orders/b-1/../../sessions'), '/api/sessions');
    assert.equal(path('/api/./orders/b-1'), '/api/orders/b-1');
  });

  it('removes dot segments like PathNormalizer (cases from its tests)', () => {
    const cases: [string, string][] = [
      ['/a/../.../../b', '/b'],
      ['/longlong/../short/..', '/'],
      ['/short/../longlong/../', '/'],
      ['/a/..b', '/a/..b'],
      ['/a/b..', '/a/b..'],
      ['/no/segments/', '/no/segments/'],
      ['/..', '/'],
      ['/', '/'],
    ];
    for (const [input, expected] of cases) assert.equal(removeDotSegments(input), expected, input);
  });
});
