import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { routeMatches } from '../../../src/functions/http/routeTable';
import { startConvoy, type Convoy } from '@convoy/dev-stack';
import { bodyOfResponse, raw, statusOf } from '../../support/rawHttp';

/*
 * The app's HTTP edge on the local host, which answers as the Functions host does (docs/local-host.md):
 * what the platform answers itself (empty bodies) and what the app answers (problem+json).
 * Needs dist/ (npm run build): the host loads package.json `main`.
 */

interface Route {
  name: string;
  methods: string[];
  template: string;
}

const spaces = Buffer.alloc(64 * 1024, ' ');

function problemIn(text: string): { status: number; type: string; detail: string } {
  assert.match(text, /content-type: application\/problem\+json/i, text);
  const json = /\{.*\}/s.exec(text.slice(text.indexOf('\r\n\r\n')))?.[0] ?? '';
  return JSON.parse(json) as { status: number; type: string; detail: string };
}

describe('the app behind the local host: platform answers vs app answers', () => {
  let convoy: Convoy;
  const lines: string[] = [];
  const routes: Route[] = [];

  before(async () => {
    convoy = await startConvoy({ port: 0, log: (line) => lines.push(line) });
    // The host's route lines ("name: [GET] http://…/api/orders/{basketId}"): what it registered from the app.
    for (const line of lines) {
      const found = /(\w+): \[([A-Z,]+)\] http:\/\/[^/]+\/api\/(.*)$/.exec(line);
      if (found?.[1] && found[2] && found[3] !== undefined)
        routes.push({ name: found[1], methods: found[2].split(','), template: found[3] });
    }
  });
  after(async () => {
    await convoy.stop();
  });

  it('answers 405 with Allow for every registered route and a method it lacks (derived, not listed)', async () => {
    const real = routes.filter((r) => r.name !== 'z_unmatchedRoute');
    assert.ok(real.length >= 9, lines.join('\n'));
    for (const route of real) {
      const path = route.template.replace(/\{[^}]*\}/g, 'x1');
      const method = ['PATCH', 'PUT', 'DELETE'].find((m) => !route.methods.includes(m)) ?? 'OPTIONS';
      const expected = [...new Set(real.filter((r) => routeMatches(r.template, path)).flatMap((r) => r.methods))];
      const response = await fetch(`${convoy.url}/api/${path}`, { method });
      assert.equal(response.status, 405, `${method} /api/${path}`);
      assert.equal(response.headers.get('allow'), expected.sort().join(', '), path);
      assert.equal(response.headers.get('content-type'), 'application/problem+json');
      await response.arrayBuffer();
    }
  });

  it('answers unknown routes 404 problem+json, dot segments included (routed after Kestrel removes them)', async () => {
    for (const path of [
      '/api/nope',
      '/api/orders/',
      '/api/orders//x',
      '/api',
      '/api/orders/b-1/../..',
      '/api/orders/%2e%2e',
    ]) {
      const { text } = await raw(convoy.host.port, [`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
      assert.equal(statusOf(text), 404, `${path}: ${text}`);
      assert.equal(problemIn(text).type, 'urn:convoy:problem:not-found', path);
    }
  });

  it("answers issue 20's requests as listed (the table is printed as test diagnostics)", async (t) => {
    // [method, path, status, answered by the app as problem+json (true) or by the platform, empty (false), Allow]
    const cases: [string, string, number, boolean, string?][] = [
      ['GET', '/api/sessions', 405, true, 'POST'],
      ['PUT', '/api/sessions', 405, true, 'POST'],
      // A fetch Request cannot carry TRACE, so no Node function takes it: the host's plain 404.
      ['TRACE', '/api/sessions', 404, false],
      ['DELETE', '/api/orders/b-1', 405, true, 'GET'],
      ['POST', '/api/orders/b-1', 405, true, 'GET'],
      ['GET', '/api/dead-letters/b-1/replay', 405, true, 'POST'],
      ['GET', '/api/quarantine/m-1/replay', 405, true, 'POST'],
      ['GET', '/api/inventory/SKU-1/restock', 405, true, 'POST'],
      ['GET', '/api/nope', 404, true],
      ['GET', '/api/orders/', 404, true],
      ['GET', '/api/orders//x', 404, true],
      ...['/api/sessions', '/api/orders/b-1', '/api/quarantine', '/api/dead-letters', '/api/inventory/SKU-1'].flatMap(
        (route): [string, string, number, boolean][] => [
          ['GET', `${route}%00`, 400, false],
          ['GET', `${route}/..`, 404, true],
          ['GET', `${route}/%2e%2e`, 404, true],
        ],
      ),
    ];
    for (const [method, path, status, byApp, allow] of cases) {
      const { text } = await raw(convoy.host.port, [
        `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      ]);
      const type = /content-type: ([^\r]+)/i.exec(text)?.[1] ?? 'empty';
      t.diagnostic(`${method} ${path} -> ${statusOf(text)} ${type}${allow === undefined ? '' : ` Allow: ${allow}`}`);
      assert.equal(statusOf(text), status, `${method} ${path}: ${text}`);
      if (byApp) assert.equal(problemIn(text).status, status);
      else assert.match(text, /content-length: 0\r\n/i, text);
      if (allow !== undefined) assert.match(text, new RegExp(`allow: ${allow}\r\n`, 'i'), text);
    }
  });

  it('leaves %00 to the platform: 400 with no body, nothing invoked', async () => {
    const { text } = await raw(convoy.host.port, ['GET /api/orders/b%00 HTTP/1.1\r\nHost: x\r\n\r\n']);
    assert.equal(statusOf(text), 400, text);
    assert.match(text, /content-length: 0\r\n/i);
  });

  it('answers 413 problem+json from a declared length over 1 MiB (within the platform limit)', async () => {
    const bytes = 2 * 1024 * 1024;
    const head = `POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${bytes}\r\nConnection: close\r\n\r\n`;
    const { text } = await raw(convoy.host.port, [head], { keepSending: spaces, upTo: bytes, timeoutMs: 20_000 });
    assert.equal(statusOf(text), 413, text);
    assert.match(problemIn(text).detail, /at most 1048576 bytes/);
  });

  it('refuses a declared 99 MB upload at the platform limit from its header, reading none of it', async () => {
    const bytes = 99 * 1024 * 1024;
    const head = `POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: ${bytes}\r\n\r\n`;
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        raw(convoy.host.port, [head], { keepSending: spaces, upTo: bytes, timeoutMs: 20_000 }),
      ),
    );
    for (const { text, sentBytes } of results) {
      assert.equal(statusOf(text), 413, text);
      assert.match(text, /content-length: 0\r\n/i);
      assert.ok(sentBytes < 32 * 1024 * 1024, `the client got to send ${sentBytes} bytes`);
    }
  });

  it('answers a 200 MB chunked upload 413 problem+json, counted while reading, with memory bounded', async (t) => {
    const head =
      'POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    // One 64 KiB chunk sent again and again: the 200 MB exist only on the wire.
    const chunk = Buffer.concat([Buffer.from(`${spaces.length.toString(16)}\r\n`), spaces, Buffer.from('\r\n')]);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const { text, sentBytes } = await raw(convoy.host.port, [head], {
      keepSending: chunk,
      finish: '0\r\n\r\n',
      timeoutMs: 30_000,
    }).finally(() => {
      clearInterval(sampler);
    });
    assert.equal(statusOf(text), 413, text);
    const problem = problemIn(text);
    assert.equal(problem.type, 'urn:convoy:problem:too-large');
    assert.match(problem.detail, /at most 1048576 bytes/);
    assert.ok(sentBytes < 64 * 1024 * 1024, `the client got to send ${sentBytes} bytes`);
    const grownMiB = (peak - before) / 2 ** 20;
    t.diagnostic(`sent ${(sentBytes / 2 ** 20).toFixed(1)} MiB of 200 MB; rss grew ${grownMiB.toFixed(1)} MiB at most`);
    assert.ok(grownMiB < 64, `rss grew ${grownMiB.toFixed(1)} MiB during the upload`);
  });

  it('accepts a chunked body within 1 MiB and publishes it', async () => {
    const body = JSON.stringify({
      baskets: [{ currency: 'EUR', items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 2 }] }],
    });
    const half = Math.floor(body.length / 2);
    const framed = [body.slice(0, half), body.slice(half)].map((part) => `${part.length.toString(16)}\r\n${part}\r\n`);
    const { text } = await raw(convoy.host.port, [
      'POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
      ...framed,
      '0\r\n\r\n',
    ]);
    assert.equal(statusOf(text), 202, text);
    const answer = JSON.parse(bodyOfResponse(text)) as {
      baskets: { basketId: string; events: number }[];
    };
    assert.equal(answer.baskets.length, 1);
    assert.equal(answer.baskets[0]?.events, 3);
  });
});
