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

/*
 * The app's own byte budget for a chunked body. The platform's limit is raised to the Functions host's
 * default (100 MB, FUNCTIONS_REQUEST_BODY_SIZE_LIMIT unset) so that only the app can stop the upload early:
 * at this app's 4 MiB the host, which counts what it has forwarded into the worker's socket, usually
 * refuses first (413, empty) and would hide an app that reads too much.
 */
describe('the app behind the local host: its 1 MiB budget for a chunked body', () => {
  const functionsHostDefaultLimit = 104_857_600;
  let convoy: Convoy;
  before(async () => {
    convoy = await startConvoy({
      port: 0,
      log: () => undefined,
      settings: { FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: String(functionsHostDefaultLimit) },
    });
  });
  after(async () => {
    await convoy.stop();
  });

  it('answers a 200 MB chunked upload 413 problem+json after taking in a few MiB of it', async (t) => {
    const head =
      'POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
    // One 64 KiB chunk sent again and again: the 200 MB exist only on the wire.
    const chunk = Buffer.concat([Buffer.from(`${spaces.length.toString(16)}\r\n`), spaces, Buffer.from('\r\n')]);
    const { text, sentBytes, sentBeforeAnswer } = await raw(convoy.host.port, [head], {
      keepSending: chunk,
      finish: '0\r\n\r\n',
      timeoutMs: 30_000,
    });
    const takenMiB = sentBeforeAnswer / 2 ** 20;
    t.diagnostic(
      `${takenMiB.toFixed(1)} MiB sent when the answer came, ${(sentBytes / 2 ** 20).toFixed(1)} MiB in all`,
    );
    // The 1 MiB the app reads plus what the client → host → worker sockets hold (7.8 MiB on loopback here). An
    // app that reads on (the whole body, or 40 MiB) shows here first: 104 MiB (cut by the platform) or 48 MiB.
    const answer = text === '' ? 'no answer' : text.slice(0, text.indexOf('\r\n'));
    assert.ok(takenMiB <= 16, `${takenMiB.toFixed(1)} MiB went in before the answer (${answer})`);
    assert.equal(statusOf(text), 413, text);
    const problem = problemIn(text);
    assert.equal(problem.type, 'urn:convoy:problem:too-large');
    assert.match(problem.detail, /at most 1048576 bytes/);
  });
});
