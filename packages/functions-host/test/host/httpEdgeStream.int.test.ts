import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startLocalHost, type InvocationEvent, type LocalHost } from '../../src';
import { bodyOfResponse, raw, statusOf } from '../../../../test/support/rawHttp';

/*
 * HTTP streaming (`app.setup({ enableHttpStream: true })`): the host forwards each request to the
 * library's own HTTP server (the worker's `HttpUri` capability) and the invocation goes over RPC
 * without a body, as the Functions host does (docs/local-host.md, the HTTP edge).
 */

const appRoot = join(__dirname, 'fixtures', 'httpStreamApp');
const maxBody = 64 * 1024;

interface Echo {
  method: string;
  params: Record<string, string>;
  query: Record<string, string>;
  header: string | null;
  body: unknown;
  url: string;
}

function framed(chunk: Buffer | string): Buffer {
  const bytes = Buffer.from(chunk);
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
}

function workerUriIn(lines: readonly string[]): URL {
  const found = lines.map((line) => /worker's server at (\S+)/.exec(line)?.[1]).find((uri) => uri !== undefined);
  assert.ok(found !== undefined, lines.join('\n'));
  return new URL(found);
}

function refusesConnections(uri: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(Number(uri.port), uri.hostname);
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => {
      resolve(true);
    });
  });
}

describe('local host HTTP streaming: requests go to the worker’s own server, bodies as streams', () => {
  let host: LocalHost;
  const events: InvocationEvent[] = [];
  const lines: string[] = [];

  before(async () => {
    host = await startLocalHost({
      appRoot,
      port: 0,
      log: (line) => lines.push(line),
      http: { maxRequestBodyBytes: maxBody, bodyIdleTimeoutMs: 300 },
    });
    host.onInvocation((event) => events.push(event));
  });
  after(async () => {
    await host.stop();
  });

  it('hands the function a chunked body as it arrives (over RPC the host hands it none)', async () => {
    const { text } = await raw(host.port, [
      'POST /api/items/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
      framed('{"a":'),
      framed('[1,2]}'),
      '0\r\n\r\n',
    ]);
    assert.equal(statusOf(text), 201, text);
    assert.deepEqual((JSON.parse(bodyOfResponse(text)) as Echo).body, { a: [1, 2] });
  });

  it('refuses a chunked body at the limit with 413, empty, connection closed, while the function still reads', async () => {
    const before = events.length;
    const { text, sentBytes } = await raw(
      host.port,
      ['POST /api/items/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'],
      { keepSending: framed(Buffer.alloc(16 * 1024, 'a')), timeoutMs: 20_000 },
    );
    assert.equal(statusOf(text), 413, text);
    assert.match(text, /content-length: 0\r\n/i);
    assert.doesNotMatch(text, /content-type/i);
    assert.ok(sentBytes < 64 * 1024 * 1024, `the client got to send ${sentBytes} bytes`);
    // The echo was running (reading) when the limit struck: its body was cut off, so it failed.
    for (let waited = 0; events.length === before && waited < 5000; waited += 50) await delay(50);
    assert.deepEqual(
      events.slice(before).map((event) => [event.functionName, event.outcome]),
      [['echo', 'failed']],
    );
  });

  it('refuses a declared length over the limit from its header, invoking nothing', async () => {
    const before = events.length;
    const { text } = await raw(host.port, [
      `POST /api/items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: ${maxBody + 1}\r\n\r\n`,
    ]);
    assert.equal(statusOf(text), 413, text);
    assert.match(text, /content-length: 0\r\n/i);
    assert.equal(events.length, before);
  });

  it('gives the library what the host sends: route, query (not code) and JSON body fields as params', async () => {
    const response = await fetch(`${host.url}/api/items/5/n?x=1&code=k`, {
      method: 'POST',
      headers: { 'x-test': 'hi' },
      body: JSON.stringify({ a: 1, b: 'two', c: [3], x: 'body' }),
    });
    assert.equal(response.status, 201);
    const echo = (await response.json()) as Echo;
    // HttpTriggerAttributeBindingProvider's binding data: body fields, then query values, then route values.
    assert.deepEqual(echo.params, { a: '1', b: 'two', x: '1', id: '5', name: 'n' });
    assert.deepEqual(echo.query, { x: '1', code: 'k' });
    assert.equal(echo.header, 'hi');
    assert.equal(echo.url, `${host.url}/api/items/5/n?x=1&code=k`);
    // The worker's response is the client's, with the invocation id the library sets on it.
    const id = response.headers.get('x-ms-invocation-id');
    assert.ok(
      events.some((event) => event.invocationId === id && event.functionName === 'echo'),
      String(id),
    );
    assert.equal(response.headers.get('x-echo'), 'yes');
    assert.match(response.headers.get('set-cookie') ?? '', /seen=1/);
  });

  it('answers 500 when the function fails before answering (the library then never answers)', async () => {
    const response = await fetch(`${host.url}/api/broken`);
    assert.equal(response.status, 500);
    await response.arrayBuffer();
  });

  it('loads the app again in the same process, and closes the library’s server when the host stops', async () => {
    const secondLines: string[] = [];
    const second = await startLocalHost({ appRoot, port: 0, log: (line) => secondLines.push(line) });
    const worker = workerUriIn(secondLines);
    try {
      const answer = await fetch(`${second.url}/api/items/7`);
      assert.equal(answer.status, 200);
      assert.equal(((await answer.json()) as Echo).params.id, '7');
      // The first host still runs on its own copy of the library.
      assert.equal((await fetch(`${host.url}/api/items/8`)).status, 200);
    } finally {
      await second.stop();
    }
    assert.equal(await refusesConnections(worker), true, `${worker.href} still accepts connections`);
  });
});
