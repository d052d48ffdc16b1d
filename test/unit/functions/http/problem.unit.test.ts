import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpRequest, HttpResponse, type HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { maxBodyBytes, problem, readJsonBody, validationProblem } from '../../../../src/functions/http/problem';

function post(body: string, headers: Record<string, string> = {}): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    url: 'http://localhost:7071/api/sessions',
    body: { string: body },
    headers,
  });
}

async function bodyOf(init: HttpResponseInit) {
  const response = new HttpResponse(init);
  const body: unknown = await response.json();
  return { status: response.status, contentType: response.headers.get('content-type'), body };
}

describe('problem details', () => {
  it('renders type, title, status and detail as application/problem+json', async () => {
    const { status, contentType, body } = await bodyOf(
      problem({ status: 409, type: 'conflict', title: 'Conflict', detail: 'Try again.' }),
    );
    assert.equal(status, 409);
    assert.equal(contentType, 'application/problem+json');
    assert.deepEqual(body, {
      type: 'urn:convoy:problem:conflict',
      title: 'Conflict',
      status: 409,
      detail: 'Try again.',
    });
  });

  it('lists every invalid field with its path and message', async () => {
    const schema = z.object({
      baskets: z.array(z.object({ quantity: z.number().int().min(1, 'quantity must be at least 1') })),
      name: z.string(),
    });
    const parsed = schema.safeParse({ baskets: [{ quantity: 1 }, { quantity: 0 }] });
    if (parsed.success) assert.fail('the input must be invalid');
    const { status, body } = await bodyOf(validationProblem(parsed.error, 'Fix the fields.'));
    assert.equal(status, 400);
    assert.ok(typeof body === 'object' && body !== null && 'errors' in body && 'detail' in body);
    assert.equal(body.detail, 'Fix the fields.');
    assert.deepEqual(body.errors, [
      { path: 'baskets.1.quantity', message: 'quantity must be at least 1' },
      { path: 'name', message: 'Invalid input: expected string, received undefined' },
    ]);
  });
});

describe('readJsonBody', () => {
  it('reads a chunked body like any other: under HTTP streaming it arrives, as a stream', async () => {
    assert.deepEqual(await readJsonBody(post('{"a":1}', { 'transfer-encoding': 'chunked' })), {
      ok: true,
      value: { a: 1 },
    });
    const empty = await readJsonBody(post('', { 'transfer-encoding': 'chunked' }));
    if (empty.ok) assert.fail('an empty body must be refused');
    assert.equal(empty.response.status, 400);
  });

  it('parses a JSON body', async () => {
    assert.deepEqual(await readJsonBody(post('{"a":[1,2]}')), { ok: true, value: { a: [1, 2] } });
  });

  it('answers 400 for a body that is not JSON, saying why', async () => {
    const result = await readJsonBody(post('{"a":'));
    if (result.ok) assert.fail('the body must be refused');
    const { status, body } = await bodyOf(result.response);
    assert.equal(status, 400);
    assert.ok(typeof body === 'object' && body !== null && 'detail' in body);
    assert.match(String(body.detail), /not valid JSON/);
  });

  it('answers 400 for an empty body', async () => {
    const result = await readJsonBody(post('  '));
    assert.equal(result.ok ? 200 : result.response.status, 400);
  });

  it('answers 413 when Content-Length announces more than the limit, before reading', async () => {
    const result = await readJsonBody(post('{}', { 'content-length': String(maxBodyBytes + 1) }));
    assert.equal(result.ok ? 200 : result.response.status, 413);
  });

  it('answers 413 when the body is larger than the limit although no length was announced', async () => {
    const result = await readJsonBody(post(JSON.stringify({ pad: 'x'.repeat(64) })), 32);
    assert.equal(result.ok ? 200 : result.response.status, 413);
  });

  it('accepts a body of exactly the limit', async () => {
    const text = JSON.stringify({ pad: 'x'.repeat(20) });
    const result = await readJsonBody(post(text), text.length);
    assert.equal(result.ok, true);
  });
});
