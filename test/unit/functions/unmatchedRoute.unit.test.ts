import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpRequest, HttpResponse } from '@azure/functions';
import { allowedMethods, routeMatches, type KnownRoute } from '../../../src/functions/http/routeTable';
import { makeUnmatchedRoute, unmatchedRouteName } from '../../../src/functions/unmatchedRoute';

const routes: KnownRoute[] = [
  { functionName: 'publishSessions', route: 'sessions', methods: ['POST'] },
  { functionName: 'getOrder', route: 'orders/{basketId}', methods: ['GET'] },
  { functionName: 'timeline', route: 'console/baskets/{basketId}/timeline', methods: ['GET'] },
  { functionName: 'page', route: 'items/{id:int}/{name?}', methods: ['GET', 'POST'] },
  { functionName: 'dropItem', route: 'items/{id}', methods: ['DELETE'] },
  { functionName: unmatchedRouteName, route: '{*path}', methods: ['GET', 'POST', 'DELETE'] },
];

async function call(method: string, path: string) {
  const handler = makeUnmatchedRoute(() => routes);
  const request = new HttpRequest({ method, url: `http://localhost/api/${path}`, params: { path } });
  const response = new HttpResponse(await handler(request));
  return { response, body: (await response.json()) as { status: number; detail: string; type: string } };
}

describe('route templates as the catch-all matches them', () => {
  it('matches literals case-insensitively, parameters as one non-empty segment, optional ones at the end', () => {
    assert.equal(routeMatches('sessions', 'SESSIONS'), true);
    assert.equal(routeMatches('sessions', 'sessions/'), true);
    assert.equal(routeMatches('orders/{basketId}', 'orders/b-1'), true);
    assert.equal(routeMatches('orders/{basketId}', 'orders/'), false);
    assert.equal(routeMatches('orders/{basketId}', 'orders//x'), false);
    assert.equal(routeMatches('orders/{basketId}', 'orders/b-1/x'), false);
    assert.equal(routeMatches('items/{id:int}/{name?}', 'items/7'), true);
    assert.equal(routeMatches('items/{id:int}/{name?}', 'items/7/pen'), true);
    assert.equal(routeMatches('files/{*rest}', 'files/a/b'), true);
  });

  it('collects the methods of every route that fits, without the catch-all itself', () => {
    assert.deepEqual(allowedMethods('items/7', routes.slice(0, 5)), ['DELETE', 'GET', 'POST']);
    assert.deepEqual(allowedMethods('nope', routes.slice(0, 5)), []);
  });
});

describe('unmatchedRoute (the catch-all)', () => {
  it('answers 405 with Allow for a known route and another method', async () => {
    const { response, body } = await call('DELETE', 'orders/b-1');
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET');
    assert.equal(response.headers.get('content-type'), 'application/problem+json');
    assert.equal(body.type, 'urn:convoy:problem:method-not-allowed');
    assert.equal(body.detail, 'DELETE is not allowed on /api/orders/b-1; allowed: GET.');
    const timeline = await call('POST', 'console/baskets/b-1/timeline');
    assert.equal(timeline.response.headers.get('allow'), 'GET');
  });

  it('answers 404 problem+json for a path no route has', async () => {
    for (const path of ['nope', 'orders/', 'orders//x', '']) {
      const { response, body } = await call('GET', path);
      assert.equal(response.status, 404, path);
      assert.equal(response.headers.get('allow'), null);
      assert.equal(body.type, 'urn:convoy:problem:not-found');
    }
  });
});
