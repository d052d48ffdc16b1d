import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { RpcHttpData, RpcNullableString } from '../invoke';
import type { CompiledRoute } from './route';

export interface HttpFunction {
  name: string;
  route: CompiledRoute;
  /** Upper-case methods; undefined = every method. */
  methods: readonly string[] | undefined;
}

/** Runs the function; resolves to the response's returnValue, rejects when the function failed. */
export type HttpInvoker = (fn: HttpFunction, request: RpcHttpData) => Promise<unknown>;

const nullable = z.object({ value: z.unknown() }).nullish();
const cookieSchema = z.object({
  name: z.string(),
  value: z.string(),
  domain: nullable,
  path: nullable,
  expires: z.object({ value: z.object({ seconds: z.number(), nanos: z.number().optional() }).nullish() }).nullish(),
  secure: nullable,
  httpOnly: nullable,
  sameSite: z.string().nullish(),
  maxAge: nullable,
});
const httpResponseSchema = z.object({
  http: z.object({
    statusCode: z.string().nullish(),
    headers: z.record(z.string(), z.string()).nullish(),
    cookies: z.array(cookieSchema).nullish(),
    body: z
      .object({ bytes: z.instanceof(Uint8Array).optional(), string: z.string().optional() })
      .loose()
      .nullish(),
  }),
});

function toCookieHeader(cookie: z.infer<typeof cookieSchema>): string {
  const parts = [`${cookie.name}=${cookie.value}`];
  if (typeof cookie.domain?.value === 'string') parts.push(`Domain=${cookie.domain.value}`);
  if (typeof cookie.path?.value === 'string') parts.push(`Path=${cookie.path.value}`);
  const expires = cookie.expires?.value;
  if (expires) parts.push(`Expires=${new Date(expires.seconds * 1000).toUTCString()}`);
  if (typeof cookie.maxAge?.value === 'number') parts.push(`Max-Age=${cookie.maxAge.value}`);
  if (cookie.secure?.value === true) parts.push('Secure');
  if (cookie.httpOnly?.value === true) parts.push('HttpOnly');
  const sameSite = { lax: 'Lax', strict: 'Strict', explicitNone: 'None' }[cookie.sameSite ?? ''];
  if (sameSite !== undefined) parts.push(`SameSite=${sameSite}`);
  return parts.join('; ');
}

function nullableMap(values: Record<string, string>): Record<string, RpcNullableString> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v }]));
}

/** Problem details (RFC 9457) for what the host itself refuses, the same shape the app's HTTP functions use. */
function problemBody(status: number, title: string, detail: string): string {
  return JSON.stringify({ type: 'about:blank', title, status, detail });
}

function sendProblem(
  response: ServerResponse,
  status: number,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  const body = problemBody(status, title, detail);
  response.writeHead(status, {
    'content-type': 'application/problem+json',
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  response.end(body);
}

export interface HttpLimits {
  /** Largest request body; larger ones answer 413 as soon as the limit is crossed. */
  maxRequestBodyBytes: number;
  /** A body that stops arriving for this long (shorter than its Content-Length) answers 400. */
  bodyIdleTimeoutMs: number;
}

/** FUNCTIONS_REQUEST_BODY_SIZE_LIMIT's default on the Functions host (100 MB). */
export const defaultMaxRequestBodyBytes = 104_857_600;
export const defaultHttpLimits: HttpLimits = {
  maxRequestBodyBytes: defaultMaxRequestBodyBytes,
  bodyIdleTimeoutMs: 30_000,
};

type BodyResult = { ok: true; body: Buffer } | { ok: false; status: 400 | 413; title: string; detail: string };

/**
 * Reads the body within the limit and stops reading the moment it is crossed, so an oversized upload
 * is never buffered. A body that stalls before its Content-Length, or a connection that ends early,
 * is refused rather than waited on forever.
 */
function readBody(request: IncomingMessage, limits: HttpLimits): Promise<BodyResult> {
  const max = limits.maxRequestBodyBytes;
  const tooLarge: BodyResult = {
    ok: false,
    status: 413,
    title: 'Payload too large',
    detail: `The request body must be at most ${max} bytes.`,
  };
  const declaredText = request.headers['content-length'];
  const declared = declaredText === undefined ? undefined : Number(declaredText);
  if (declared !== undefined && declared > max) {
    request.pause();
    return Promise.resolve(tooLarge);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let timer: NodeJS.Timeout | undefined;
    const expected = declared === undefined ? '' : ` of the ${declared} its Content-Length announced`;
    const finish = (result: BodyResult): void => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('aborted', onAborted);
      request.off('error', onAborted);
      if (!result.ok) request.pause();
      resolve(result);
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        finish({
          ok: false,
          status: 400,
          title: 'Incomplete request body',
          detail: `The request body stopped after ${received} bytes${expected} (nothing arrived for ${limits.bodyIdleTimeoutMs} ms).`,
        });
      }, limits.bodyIdleTimeoutMs);
    };
    const onData = (chunk: Buffer | string): void => {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      received += buffer.length;
      if (received > max) {
        finish(tooLarge);
        return;
      }
      chunks.push(buffer);
      arm();
    };
    const onEnd = (): void => {
      finish({ ok: true, body: Buffer.concat(chunks) });
    };
    const onAborted = (): void => {
      finish({
        ok: false,
        status: 400,
        title: 'Incomplete request body',
        detail: `The connection closed after ${received} bytes of the request body${expected}.`,
      });
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('aborted', onAborted);
    request.on('error', onAborted);
    arm();
  });
}

/** Answers a refused body and closes the connection: the rest of the body must not be read as a next request. */
function refuseBody(
  request: IncomingMessage,
  response: ServerResponse,
  result: Exclude<BodyResult, { ok: true }>,
): void {
  response.on('finish', () => {
    // Half-close first so the client can read the answer; drop the socket if it keeps sending.
    request.socket.end();
    setTimeout(() => request.socket.destroy(), 1000).unref();
  });
  sendProblem(response, result.status, result.title, result.detail, { connection: 'close' });
}

function decodablePath(pathname: string): boolean {
  try {
    decodeURIComponent(pathname);
    return true;
  } catch {
    return false;
  }
}

/** The RPC request the host builds: lower-case headers without empty values, non-empty query values, route params. */
export function toRpcHttp(
  request: IncomingMessage,
  url: URL,
  body: Buffer,
  params: Record<string, string>,
): RpcHttpData {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.headers)) {
    const text = Array.isArray(value) ? value.join(', ') : value;
    if (text !== undefined && text !== '') headers[key.toLowerCase()] = text;
  }
  const query: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const text = url.searchParams.getAll(key).join(',');
    if (text !== '') query[key] = text;
  }
  return {
    method: request.method ?? 'GET',
    url: url.href,
    headers,
    nullableHeaders: nullableMap(headers),
    query,
    nullableQuery: nullableMap(query),
    params,
    nullableParams: nullableMap(params),
    ...(body.length > 0 ? { body: { bytes: new Uint8Array(body) } } : {}),
  };
}

function writeResult(response: ServerResponse, returnValue: unknown): void {
  if (returnValue === undefined || returnValue === null) {
    response.writeHead(204).end();
    return;
  }
  const parsed = httpResponseSchema.safeParse(returnValue);
  if (!parsed.success) {
    response.writeHead(500).end();
    return;
  }
  const http = parsed.data.http;
  const headers: Record<string, string | string[]> = { ...(http.headers ?? {}) };
  const cookies = (http.cookies ?? []).map(toCookieHeader);
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  const status = Number(http.statusCode ?? '200');
  const body = http.body?.bytes ?? (http.body?.string !== undefined ? Buffer.from(http.body.string) : undefined);
  response.writeHead(Number.isInteger(status) ? status : 200, headers);
  response.end(body === undefined ? undefined : Buffer.from(body));
}

export interface HttpListener {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Serves paths the host itself owns (e.g. the durable webhooks); returns false to fall through. */
export type SystemRoute = (request: IncomingMessage, response: ServerResponse, url: URL) => boolean;

export async function startHttpListener(
  port: number,
  functions: () => readonly HttpFunction[],
  invoke: HttpInvoker,
  systemRoute: SystemRoute = () => false,
  limits: HttpLimits = defaultHttpLimits,
): Promise<HttpListener> {
  const server = createServer((request, response) => {
    void (async () => {
      let url: URL;
      try {
        url = new URL(request.url ?? '/', `http://${request.headers.host ?? `localhost:${String(port)}`}`);
      } catch {
        refuseBody(request, response, {
          ok: false,
          status: 400,
          title: 'Bad request',
          detail: `The request target ${JSON.stringify(request.url)} is not a valid URL.`,
        });
        return;
      }
      if (!decodablePath(url.pathname)) {
        refuseBody(request, response, {
          ok: false,
          status: 400,
          title: 'Bad request',
          detail: `The path ${url.pathname} has an invalid percent-encoding.`,
        });
        return;
      }
      if (systemRoute(request, response, url)) return;
      const method = (request.method ?? 'GET').toUpperCase();
      const matching = functions()
        .map((fn) => ({ fn, params: fn.route.match(url.pathname) }))
        .filter((c): c is { fn: HttpFunction; params: Record<string, string> } => c.params !== undefined);
      const candidates = matching
        .filter((c) => c.fn.methods === undefined || c.fn.methods.includes(method))
        .sort((a, b) => b.fn.route.precedence - a.fn.route.precedence);
      const chosen = candidates[0];
      if (chosen === undefined) {
        const body = await readBody(request, limits);
        if (!body.ok) {
          refuseBody(request, response, body);
        } else if (url.pathname === '/' && method === 'GET') {
          response
            .writeHead(200, { 'content-type': 'text/plain' })
            .end('Your Functions 4.0 app is up and running (local host)\n');
        } else if (matching.length > 0) {
          const allow = [...new Set(matching.flatMap((c) => c.fn.methods ?? []))].sort().join(', ');
          sendProblem(
            response,
            405,
            'Method not allowed',
            `${method} is not allowed on ${url.pathname}; allowed: ${allow}.`,
            { allow },
          );
        } else {
          sendProblem(response, 404, 'Not found', `No function answers ${url.pathname}.`);
        }
        return;
      }
      const body = await readBody(request, limits);
      if (!body.ok) {
        refuseBody(request, response, body);
        return;
      }
      try {
        writeResult(response, await invoke(chosen.fn, toRpcHttp(request, url, body.body, chosen.params)));
      } catch {
        if (!response.headersSent) response.writeHead(500);
        response.end();
      }
    })().catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  // Malformed requests (e.g. bytes past a Content-Length read as a next request) get problem+json too.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = problemBody(
      status,
      'Bad request',
      `The request could not be parsed (${error.code ?? error.message}).`,
    );
    socket.end(
      `HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : status === 408 ? 'Request Timeout' : 'Request Header Fields Too Large'}\r\n` +
        `Content-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? (address satisfies AddressInfo).port : port;
  return {
    server,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
