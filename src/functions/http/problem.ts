import type { ReadableStream } from 'node:stream/web';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import { classifyError, errorReport, errorText } from '../../errors';

/**
 * HTTP errors as RFC 9457 problem details (application/problem+json), shared by every HTTP function,
 * so a client always gets a body it can act on: what is wrong (`detail`) and where (`errors`).
 */

export const problemContentType = 'application/problem+json';

/** Request bodies above this answer 413 before they are parsed. */
export const maxBodyBytes = 1024 * 1024;

export interface FieldError {
  /** Dotted path of the invalid field, e.g. `baskets.0.items.2.quantity`; empty for the body itself. */
  path: string;
  message: string;
}

export interface ProblemInit {
  status: number;
  title: string;
  detail: string;
  /** A short slug naming the kind of problem; becomes `urn:convoy:problem:<slug>`. */
  type?: string;
  errors?: readonly FieldError[];
  /** Extra response headers, e.g. `allow` on a 405. */
  headers?: Readonly<Record<string, string>>;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: readonly FieldError[];
}

export function problem(init: ProblemInit): HttpResponseInit {
  const body: ProblemBody = {
    type: init.type === undefined ? 'about:blank' : `urn:convoy:problem:${init.type}`,
    title: init.title,
    status: init.status,
    detail: init.detail,
    ...(init.errors === undefined ? {} : { errors: init.errors }),
  };
  return { status: init.status, headers: { ...init.headers, 'content-type': problemContentType }, jsonBody: body };
}

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** 400 listing every invalid field of a request that failed its schema. */
export function validationProblem(error: z.ZodError, detail = 'The request is invalid; see errors.'): HttpResponseInit {
  return problem({ status: 400, type: 'validation', title: 'Invalid request', detail, errors: fieldErrors(error) });
}

export function notFoundProblem(detail: string): HttpResponseInit {
  return problem({ status: 404, type: 'not-found', title: 'Not found', detail });
}

/** 503 for a dependency that failed (storage, broker): the request was fine, retrying may succeed. */
export function unavailableProblem(detail: string): HttpResponseInit {
  return problem({ status: 503, type: 'unavailable', title: 'Service unavailable', detail });
}

/**
 * Logs a failed dependency call and answers 503: `action` completes "<action> failed", e.g.
 * "Reading order b-1". A bug (src/errors.ts) is no outage: 500 with its stack in the log, no "retry".
 */
export function dependencyUnavailable(context: InvocationContext, action: string, error: unknown): HttpResponseInit {
  if (classifyError(error) === 'bug') {
    context.error(`${context.functionName}: ${action} failed, a bug: ${errorReport(error)}`);
    const detail = `${action} failed: a bug in the app (${errorText(error)}); retrying will not help until it is fixed.`;
    return problem({ status: 500, type: 'bug', title: 'Internal error', detail });
  }
  const reason = errorText(error);
  context.error(`${context.functionName}: ${action} failed: ${reason}`);
  return unavailableProblem(`${action} failed (${reason}); retry the request.`);
}

function invalidJson(detail: string): JsonBodyResult {
  return { ok: false, response: problem({ status: 400, type: 'invalid-json', title: 'Invalid request', detail }) };
}

function tooLarge(maxBytes: number): JsonBodyResult {
  return {
    ok: false,
    response: problem({
      status: 413,
      type: 'too-large',
      title: 'Payload too large',
      detail: `The request body must be at most ${maxBytes} bytes.`,
    }),
  };
}

export type JsonBodyResult = { ok: true; value: unknown } | { ok: false; response: HttpResponseInit };

/**
 * Reads the body stream until it ends or holds more than `maxBytes` (then undefined): a chunked upload
 * declares no length, so only counting tells. Past the limit it stops reading but does not cancel the
 * stream: under HTTP streaming that would abort the request on the worker's server, and the answer
 * with it. The host drops what is left.
 */
async function readWithin(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Buffer | undefined> {
  if (body === null) return Buffer.alloc(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      total += read.value.byteLength;
      if (total > maxBytes) return undefined;
      chunks.push(read.value);
    }
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks, total);
}

/**
 * Reads a JSON body within `maxBytes`: 413 when larger (from Content-Length before reading, or counted
 * while reading, which is how a chunked body is caught), 400 when empty, unreadable or not JSON. The app
 * runs with HTTP streaming (src/index.ts), so every body reaches it, chunked ones included, as a stream.
 * Content-Type is not enforced so `curl -d` works as people expect.
 */
export async function readJsonBody(request: HttpRequest, maxBytes = maxBodyBytes): Promise<JsonBodyResult> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (Number.isFinite(declared) && declared > maxBytes) return tooLarge(maxBytes);
  let bytes: Buffer | undefined;
  try {
    bytes = await readWithin(request.body as ReadableStream<Uint8Array> | null, maxBytes);
  } catch (error) {
    return invalidJson(`The request body could not be read: ${errorText(error)}`);
  }
  if (bytes === undefined) return tooLarge(maxBytes);
  const text = bytes.toString('utf8');
  if (text.trim() === '') return invalidJson('The request body is empty; send a JSON document.');
  try {
    const value: unknown = JSON.parse(text);
    return { ok: true, value };
  } catch (error) {
    return invalidJson(`The request body is not valid JSON: ${errorText(error)}`);
  }
}
