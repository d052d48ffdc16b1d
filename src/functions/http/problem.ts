import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import { errorText } from '../../errors';
import { recordHttpRoutes } from './routeTable';

// Every HTTP function imports this module before it registers, so its route is recorded for the
// catch-all's 405s whatever order the worker loads the files in (src/index.ts starts it too).
recordHttpRoutes();

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
 * "Reading order b-1".
 */
export function dependencyUnavailable(context: InvocationContext, action: string, error: unknown): HttpResponseInit {
  const reason = errorText(error);
  context.error(`${context.functionName}: ${action} failed: ${reason}`);
  return unavailableProblem(`${action} failed (${reason}); retry the request.`);
}

function invalidJson(detail: string): JsonBodyResult {
  return { ok: false, response: problem({ status: 400, type: 'invalid-json', title: 'Invalid request', detail }) };
}

export type JsonBodyResult = { ok: true; value: unknown } | { ok: false; response: HttpResponseInit };

/**
 * Reads a JSON body within `maxBytes`: 413 when larger (by Content-Length, before reading, or by what
 * arrived), 411 for a chunked body the platform did not pass on, 400 when empty or not JSON.
 * Content-Type is not enforced so `curl -d` works as people expect.
 */
export async function readJsonBody(request: HttpRequest, maxBytes = maxBodyBytes): Promise<JsonBodyResult> {
  const tooLarge: JsonBodyResult = {
    ok: false,
    response: problem({
      status: 413,
      type: 'too-large',
      title: 'Payload too large',
      detail: `The request body must be at most ${maxBytes} bytes.`,
    }),
  };
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (Number.isFinite(declared) && declared > maxBytes) return tooLarge;
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > maxBytes) return tooLarge;
  if (bytes.byteLength === 0 && request.headers.has('transfer-encoding')) return lengthRequired(maxBytes);
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === '') return invalidJson('The request body is empty; send a JSON document.');
  try {
    const value: unknown = JSON.parse(text);
    return { ok: true, value };
  } catch (error) {
    return invalidJson(`The request body is not valid JSON: ${errorText(error)}`);
  }
}

/**
 * The Functions host hands the worker a body only when the request declares a Content-Length
 * (GrpcMessageConversionExtensions.ToRpcHttp reads it `if (request.ContentLength > 0)`): a chunked one
 * arrives empty, however large it was. Saying so beats "the body is empty".
 */
function lengthRequired(maxBytes: number): JsonBodyResult {
  return {
    ok: false,
    response: problem({
      status: 411,
      type: 'length-required',
      title: 'Length required',
      detail: `The request body was sent chunked (Transfer-Encoding) and the Functions host passes such bodies on empty; send it with a Content-Length of at most ${maxBytes} bytes.`,
    }),
  };
}
