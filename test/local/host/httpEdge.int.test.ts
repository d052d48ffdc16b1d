import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLocalHost, type InvocationEvent, type LocalHost } from '../../../local/host';

const maxBody = 64 * 1024;
const idleMs = 300;

/** Sends raw bytes, returns everything the server wrote until it closed the connection. */
function raw(port: number, chunks: readonly (string | Buffer)[], options: { keepSending?: Buffer } = {}) {
  return new Promise<{ text: string; sentBytes: number }>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let sentBytes = 0;
    let closed = false;
    socket.on('data', (data) => (text += data.toString('latin1')));
    socket.on('error', () => undefined); // a reset after the answer is expected when the server stops reading
    socket.on('close', () => {
      closed = true;
      resolve({ text, sentBytes });
    });
    socket.on('connect', () => {
      for (const chunk of chunks) {
        socket.write(chunk);
        sentBytes += Buffer.byteLength(chunk);
      }
      const more = options.keepSending;
      if (more === undefined) return;
      // Keeps pushing a body far past the limit until the server closes the connection.
      const pump = (): void => {
        while (!closed && sentBytes < 200 * 1024 * 1024) {
          sentBytes += more.length;
          if (!socket.write(more)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    setTimeout(() => {
      if (!closed) reject(new Error(`connection still open after 10 s; received so far: ${text}`));
    }, 10_000).unref();
  });
}

function statusOf(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
}

function problemOf(text: string): { status: number; title: string; detail: string } {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  assert.match(head, /content-type: application\/problem\+json/i, text);
  const parsed: unknown = JSON.parse(body);
  assert.ok(typeof parsed === 'object' && parsed !== null && 'status' in parsed && 'detail' in parsed, body);
  return parsed as { status: number; title: string; detail: string };
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

  it('answers an undecodable path with 400 problem+json, without invoking anything', async () => {
    const before = events.length;
    const { text } = await raw(host.port, ['GET /api/items/%zz HTTP/1.1\r\nHost: x\r\n\r\n']);
    assert.equal(statusOf(text), 400, text);
    assert.match(problemOf(text).detail, /%zz has an invalid percent-encoding/);
    assert.equal(events.length, before);
  });

  it('answers unknown routes 404 and wrong methods 405 with Allow, as problem+json', async () => {
    const missing = await fetch(`${host.url}/api/nowhere`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('content-type'), 'application/problem+json');
    assert.match(((await missing.json()) as { detail: string }).detail, /No function answers \/api\/nowhere/);

    const wrong = await fetch(`${host.url}/api/broken`, { method: 'POST' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'GET');
    assert.equal(wrong.headers.get('content-type'), 'application/problem+json');
    // items/{id} is served by two functions: Allow lists both.
    const put = await fetch(`${host.url}/api/items/5`, { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'DELETE, GET, POST');
    await put.arrayBuffer();
  });

  it('answers 413 at once for a declared length over the limit, reading none of the body', async () => {
    const before = events.length;
    const { text } = await raw(host.port, [
      `POST /api/items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: ${200 * 1024 * 1024}\r\n\r\n`,
    ]);
    assert.equal(statusOf(text), 413, text);
    assert.match(problemOf(text).detail, new RegExp(`at most ${maxBody} bytes`));
    assert.equal(events.length, before);
  });

  it('stops reading a chunked body as soon as it crosses the limit and closes the connection', async () => {
    const chunk = Buffer.alloc(16 * 1024, 'a');
    const framed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
    const { text, sentBytes } = await raw(
      host.port,
      ['POST /api/items/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'],
      { keepSending: framed },
    );
    assert.equal(statusOf(text), 413, text);
    // The client was cut off long before its 200 MB: only socket buffers past the limit were accepted.
    assert.ok(sentBytes < 64 * 1024 * 1024, `client managed to send ${sentBytes} bytes`);
  });

  it('answers 400 and closes when the body is shorter than its Content-Length and stalls', async () => {
    const { text } = await raw(host.port, [
      'POST /api/items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":',
    ]);
    assert.equal(statusOf(text), 400, text);
    assert.match(problemOf(text).detail, /stopped after 5 bytes of the 100 its Content-Length announced/);
  });

  it('answers 400 problem+json and closes when bytes follow the Content-Length body', async () => {
    const { text } = await raw(host.port, [
      'POST /api/items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}garbage that is not a request\r\n\r\n',
    ]);
    // Node parses the trailing bytes as a pipelined request: a parse error answers 400 and ends the connection.
    const at = text.lastIndexOf('HTTP/1.1 ');
    assert.ok(at >= 0, text);
    const last = text.slice(at);
    assert.equal(statusOf(last), 400, text);
    assert.match(problemOf(last).detail, /could not be parsed/);
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
