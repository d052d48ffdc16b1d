import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLocalHost, type InvocationEvent, type LocalHost } from '../../src';
import { raw, statusOf } from '../../../../test/support/rawHttp';

const maxBody = 64 * 1024;
const idleMs = 300;

function bodyOf(text: string): string {
  return text.slice(text.indexOf('\r\n\r\n') + 4);
}

/** What the Functions host's web server answers itself: a status, `Content-Length: 0`, nothing else. */
function assertEmptyAnswer(text: string, status: number): void {
  assert.equal(statusOf(text), status, text);
  assert.match(text, /content-length: 0\r\n/i, text);
  assert.doesNotMatch(text, /content-type/i, text);
  assert.equal(bodyOf(text), '', text);
}

describe('local host HTTP edge: bad paths, unknown routes, body limits', () => {
  let host: LocalHost;
  const events: InvocationEvent[] = [];

  before(async () => {
    host = await startLocalHost({
      appRoot: join(__dirname, 'fixtures', 'httpApp'),
      port: 0,
      log: () => undefined,
      http: { maxRequestBodyBytes: maxBody, bodyIdleTimeoutMs: idleMs },
    });
    host.onInvocation((event) => events.push(event));
  });
  after(async () => {
    await host.stop();
  });

  it('answers %00 in the path with 400 and no body before routing, as Kestrel does', async () => {
    const before = events.length;
    for (const path of ['/api/items/1%00', '/api/items/%00/x', '/api/nowhere%00']) {
      const { text } = await raw(host.port, [`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`]);
      assertEmptyAnswer(text, 400);
      assert.match(text, /connection: close/i);
    }
    assert.equal(events.length, before);
  });

  it('removes dot segments (plain or %2e-encoded) before routing, and passes invalid escapes through', async () => {
    for (const path of ['/api/items/5/../7', '/api/items/5/%2e%2E/7', '/api/./items/7']) {
      const response = await fetch(`${host.url}${path}`.replace('/./', '/%2e/'));
      assert.equal(response.status, 200, path);
      assert.deepEqual(((await response.json()) as { params: unknown }).params, { id: '7' }, path);
    }
    // `..` that climbs to a path no route has: the host's plain 404.
    const { text } = await raw(host.port, ['GET /api/items/.. HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    assertEmptyAnswer(text, 404);
    // Kestrel keeps an escape that decodes to nothing valid as written: routing sees `%zz`.
    const invalid = await fetch(`${host.url}/api/items/%zz`, { method: 'DELETE' });
    assert.equal(invalid.status, 204);
  });

  it('answers unknown routes and wrong methods 404 with no body (no catch-all in this app)', async () => {
    for (const [method, path] of [
      ['GET', '/api/nowhere'],
      ['POST', '/api/broken'],
      ['PUT', '/api/items/5'],
      ['TRACE', '/api/broken'],
    ]) {
      const { text } = await raw(host.port, [`${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
      assertEmptyAnswer(text, 404);
    }
  });

  it('answers 413 with no body for a declared length over the limit, reading none of it, invoking nothing', async () => {
    const before = events.length;
    const { text } = await raw(host.port, [
      `POST /api/items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: ${200 * 1024 * 1024}\r\n\r\n`,
    ]);
    assertEmptyAnswer(text, 413);
    assert.equal(events.length, before);
  });

  it('invites a body with 100 Continue only when it will read it (as Kestrel, on the first read)', async () => {
    const refused = await raw(host.port, [
      `POST /api/items/1 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${maxBody + 1}\r\n\r\n`,
    ]);
    assert.doesNotMatch(refused.text, /100 Continue/, refused.text);
    assertEmptyAnswer(refused.text, 413);
    const invited = await raw(host.port, [
      'POST /api/items/1 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
    ]);
    assert.match(invited.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201 /, invited.text);
  });

  it('hands the function no body for a chunked request (as the host), then stops reading it at the limit', async () => {
    const chunk = Buffer.alloc(16 * 1024, 'a');
    const framed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
    const { text, sentBytes } = await raw(
      host.port,
      ['POST /api/items/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'],
      { keepSending: framed },
    );
    assert.equal(statusOf(text), 201, text);
    // The echo function saw no body at all (its JSON says `"body":null`).
    assert.match(text, /"method":"POST".*"body":null/, text);
    // The client was cut off long before its 200 MB: only socket buffers past the limit were accepted.
    assert.ok(sentBytes < 64 * 1024 * 1024, `client managed to send ${sentBytes} bytes`);
  });

  it('answers 408 and closes when the body is shorter than its Content-Length and stalls', async () => {
    const { text } = await raw(host.port, [
      'POST /api/items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":',
    ]);
    assertEmptyAnswer(text, 408);
  });

  it('answers 400 with no body and closes when bytes follow the Content-Length body', async () => {
    const { text } = await raw(host.port, [
      'POST /api/items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}garbage that is not a request\r\n\r\n',
    ]);
    // Node parses the trailing bytes as a pipelined request: a parse error answers 400 and ends the connection.
    const at = text.lastIndexOf('HTTP/1.1 ');
    assert.ok(at >= 0, text);
    assertEmptyAnswer(text.slice(at), 400);
  });

  it('still serves a body within the limit on a kept-alive connection', async () => {
    const body = JSON.stringify({ fill: 'x'.repeat(maxBody - 20) });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: host.port,
          path: '/api/items/3',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(status, 201);
  });
});

describe('local host route order: function-name order, first fit wins, as the Functions host', () => {
  let host: LocalHost;

  before(async () => {
    host = await startLocalHost({
      appRoot: join(__dirname, 'fixtures', 'routeOrderApp'),
      port: 0,
      log: () => undefined,
    });
  });
  after(async () => {
    await host.stop();
  });

  async function chosen(method: string, path: string): Promise<{ name: string; params: Record<string, string> }> {
    const response = await fetch(`${host.url}${path}`, { method });
    assert.equal(response.status, 200, `${method} ${path}`);
    return (await response.json()) as { name: string; params: Record<string, string> };
  }

  it('a catch-all whose name sorts last never takes a path or method another route takes', async () => {
    assert.deepEqual(await chosen('GET', '/api/orders/b-1'), { name: 'getOrder', params: { basketId: 'b-1' } });
    assert.equal((await chosen('GET', '/api/ZEBRA')).name, 'Zebra');
    assert.deepEqual(await chosen('DELETE', '/api/orders/b-1'), {
      name: 'z_unmatched',
      params: { path: 'orders/b-1' },
    });
    assert.deepEqual(await chosen('GET', '/api/orders//x'), { name: 'z_unmatched', params: { path: 'orders//x' } });
    assert.equal((await chosen('GET', '/api/orders/')).name, 'z_unmatched');
  });

  it('does not rank templates: getOrder (orders/{basketId}) sorts before listAll (orders/all) and takes its path', async () => {
    assert.deepEqual(await chosen('GET', '/api/orders/all'), { name: 'getOrder', params: { basketId: 'all' } });
  });
});
