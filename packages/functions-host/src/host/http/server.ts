import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { z } from 'zod';
import type { RpcHttpData, RpcNullableString } from '../invoke';
import { listenOnLoopback } from '../../durable/loopback';
import { forwardToWorker, type WorkerEndpoint } from './proxy';
import { parseRequestTarget } from './requestTarget';
import type { CompiledRoute } from './route';

export interface HttpFunction {
  name: string;
  route: CompiledRoute;
  /** Upper-case methods; undefined = every method. */
  methods: readonly string[] | undefined;
}

/** An invocation whose request and response travel over the worker's own HTTP server (HTTP streaming). */
export interface StreamedCall {
  /** Sent with the forwarded request (`x-ms-invocation-id`): the worker pairs the two by it. */
  invocationId: string;
  /** The status the client got, once known (the worker's, or the host's own refusal). */
  status: Promise<number>;
  /** The body the host read before the call (a declared Content-Length): its JSON fields are binding data. */
  body: Buffer | undefined;
}

/**
 * Runs the function; resolves to the response's returnValue, rejects when the function failed. With
 * `streamed`, `request` carries no body and the response goes to the client through the worker's server.
 */
export type HttpInvoker = (fn: HttpFunction, request: RpcHttpData, streamed?: StreamedCall) => Promise<unknown>;

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

/**
 * What the host's web server answers itself (Kestrel's rejections, ASP.NET Core's unmatched request):
 * a status with an empty body. `close` for rejections, which Kestrel answers with `Connection: close`.
 */
function answerEmpty(response: ServerResponse, status: number, close: boolean): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  response.writeHead(status, { 'content-length': '0', ...(close ? { connection: 'close' } : {}) });
  response.end();
}

export interface HttpLimits {
  /** FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: a larger declared Content-Length answers 413 before a byte is read. */
  maxRequestBodyBytes: number;
  /** A body that stops arriving for this long (shorter than its Content-Length) answers 408. */
  bodyIdleTimeoutMs: number;
}

/** Kestrel's MaxRequestBodySize as the Functions host sets it (ScriptConstants.DefaultMaxRequestBodySize, 100 MB). */
export const defaultMaxRequestBodyBytes = 104_857_600;
export const defaultHttpLimits: HttpLimits = {
  maxRequestBodyBytes: defaultMaxRequestBodyBytes,
  bodyIdleTimeoutMs: 30_000,
};

type BodyResult = { ok: true; body: Buffer } | { ok: false; status: 400 | 408 | 413 };

/** The declared Content-Length, or undefined for a chunked (or bodiless) request. */
function declaredLength(request: IncomingMessage): number | undefined {
  const text = request.headers['content-length'];
  return text === undefined || request.headers['transfer-encoding'] !== undefined ? undefined : Number(text);
}

/**
 * The body the host hands the worker. The host converts a request to RPC only `if (request.ContentLength
 * > 0)` (GrpcMessageConversionExtensions.ToRpcHttp): a chunked body is never read and the worker gets
 * none. A declared length over the limit is refused from the header (Kestrel's RequestBodyTooLarge,
 * 413); a body that stalls answers 408 (Kestrel's RequestBodyTimeout).
 */
function readBody(request: IncomingMessage, response: ServerResponse, limits: HttpLimits): Promise<BodyResult> {
  const declared = declaredLength(request);
  if (declared === undefined || !(declared > 0)) return Promise.resolve({ ok: true, body: Buffer.alloc(0) });
  if (declared > limits.maxRequestBodyBytes) return Promise.resolve({ ok: false, status: 413 });
  // Kestrel sends `100 Continue` when the body is first read, so a refused body is never invited.
  if (request.headers.expect?.toLowerCase() === '100-continue') response.writeContinue();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: BodyResult): void => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('aborted', onAborted);
      request.off('error', onAborted);
      resolve(result);
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        finish({ ok: false, status: 408 });
      }, limits.bodyIdleTimeoutMs);
    };
    const onData = (chunk: Buffer | string): void => {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      arm();
    };
    const onEnd = (): void => {
      finish({ ok: true, body: Buffer.concat(chunks) });
    };
    const onAborted = (): void => {
      finish({ ok: false, status: 400 });
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('aborted', onAborted);
    request.on('error', onAborted);
    arm();
  });
}

/** Answers a refused request and closes the connection: the rest of its body must not be read as a next request. */
function refuse(request: IncomingMessage, response: ServerResponse, status: number): void {
  request.pause();
  response.on('finish', () => {
    // Half-close first so the client can read the answer; drop the socket if it keeps sending.
    request.socket.end();
    setTimeout(() => request.socket.destroy(), 1000).unref();
  });
  answerEmpty(response, status, true);
}

/**
 * After the answer, the unread rest of a body is read and discarded (Kestrel consumes it to keep the
 * connection), never past the body limit: then the connection is dropped. Nothing is buffered.
 */
function discardRest(request: IncomingMessage, limits: HttpLimits): void {
  if (request.readableEnded) return;
  let discarded = 0;
  request.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > limits.maxRequestBodyBytes) request.socket.destroy();
  });
  request.resume();
}

/** The RPC request the host builds: lower-case headers without empty values, non-empty query values, route params. */
export function toRpcHttp(
  request: IncomingMessage,
  url: { href: string; query: URLSearchParams },
  body: Buffer,
  params: Record<string, string>,
): RpcHttpData {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.headers)) {
    const text = Array.isArray(value) ? value.join(', ') : value;
    if (text !== undefined && text !== '') headers[key.toLowerCase()] = text;
  }
  const query: Record<string, string> = {};
  for (const key of new Set(url.query.keys())) {
    const text = url.query.getAll(key).join(',');
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

/** `a` before `b` as .NET's StringComparer.OrdinalIgnoreCase orders them (upper-cased, by code unit). */
function ordinalIgnoreCase(a: string, b: string): number {
  const [x, y] = [a.toUpperCase(), b.toUpperCase()];
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The host's route table: one route per HTTP function, in the order of the function names
 * (FunctionMetadataManager sorts the metadata by name, OrdinalIgnoreCase; WebScriptHostHttpRoutesManager
 * maps the routes in that order into a RouteCollection), and the first route whose template fits and
 * whose method constraint (HttpMethodRouteConstraint) accepts the request wins. Templates are not ranked.
 */
export function chooseRoute(
  functions: readonly HttpFunction[],
  path: string,
  method: string,
): { fn: HttpFunction; params: Record<string, string> } | undefined {
  for (const fn of [...functions].sort((a, b) => ordinalIgnoreCase(a.name, b.name))) {
    if (fn.methods !== undefined && !fn.methods.includes(method)) continue;
    const params = fn.route.match(path);
    if (params !== undefined) return { fn, params };
  }
  return undefined;
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

interface ForwardedCall {
  fn: HttpFunction;
  /** The request as the host's span and log line describe it; the worker gets an empty one over RPC. */
  rpc: RpcHttpData;
  path: string;
  query: string;
  body: Buffer | undefined;
}

/**
 * HTTP streaming: the request goes to the worker's server while the invocation goes over RPC, and the
 * worker's response is the client's. What the host answers itself stays the same: 413 (and the
 * connection closed) when a streamed body passes the limit before the worker answered, 500 when the
 * invocation failed before it answered (the library never answers then).
 */
async function serveThroughWorker(
  request: IncomingMessage,
  response: ServerResponse,
  endpoint: WorkerEndpoint,
  call: ForwardedCall,
  invoke: HttpInvoker,
  limits: HttpLimits,
): Promise<void> {
  const invocationId = randomUUID();
  let settle: (status: number) => void = () => undefined;
  const status = new Promise<number>((resolve) => (settle = resolve));
  const exchange = forwardToWorker(request, response, endpoint, {
    invocationId,
    path: call.path,
    query: call.query,
    body: call.body,
    maxBodyBytes: limits.maxRequestBodyBytes,
  });
  invoke(call.fn, call.rpc, { invocationId, status, body: call.body }).catch(() => {
    exchange.abandon();
  });
  const end = await exchange.ended;
  if (end === 'too-large') {
    settle(413);
    refuse(request, response, 413);
    return;
  }
  const answered = exchange.status();
  if (end === 'answered' && answered !== undefined) {
    settle(answered);
  } else {
    const own = end === 'unreachable' ? 502 : 500;
    settle(own);
    answerEmpty(response, own, false);
  }
  if (!exchange.bodyDone()) discardRest(request, limits);
}

export interface HttpListener {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Serves paths the host itself owns (e.g. the durable webhooks); returns false to fall through. */
export type SystemRoute = (request: IncomingMessage, response: ServerResponse, url: URL) => boolean;

/** What the listener routes requests with (startHttpListener's arguments). */
interface ListenerRouting {
  port: number;
  functions: () => readonly HttpFunction[];
  invoke: HttpInvoker;
  systemRoute: SystemRoute;
  limits: HttpLimits;
  worker: () => WorkerEndpoint | undefined;
}

/** The request's URL and decoded target; undefined, after a 400, when either cannot be parsed. */
function parseTarget(
  request: IncomingMessage,
  response: ServerResponse,
  port: number,
): { url: URL; path: string; query: string } | undefined {
  const target = parseRequestTarget(request.url ?? '/');
  let url: URL;
  try {
    url = new URL(request.url ?? '/', `http://${request.headers.host ?? `localhost:${String(port)}`}`);
  } catch {
    refuse(request, response, 400);
    return undefined;
  }
  if (!target.ok) {
    refuse(request, response, 400);
    return undefined;
  }
  return { url, path: target.path, query: target.query };
}

/** No function's route fits: the host's HomepageMiddleware answers `GET /`, anything else is a 404. */
function answerUnrouted(request: IncomingMessage, response: ServerResponse, home: boolean, limits: HttpLimits): void {
  if (home) {
    response
      .writeHead(200, { 'content-type': 'text/plain' })
      .end('Your Functions 4.0 app is up and running (local host)\n');
  } else {
    answerEmpty(response, 404, false);
  }
  discardRest(request, limits);
}

/** The request and the response travel over RPC: the host writes the function's returnValue. */
async function serveOverRpc(
  request: IncomingMessage,
  response: ServerResponse,
  chosen: { fn: HttpFunction; params: Record<string, string> },
  rpcUrl: { href: string; query: URLSearchParams },
  body: Buffer,
  routing: ListenerRouting,
): Promise<void> {
  try {
    writeResult(response, await routing.invoke(chosen.fn, toRpcHttp(request, rpcUrl, body, chosen.params)));
  } catch {
    answerEmpty(response, 500, false);
  }
  discardRest(request, routing.limits);
}

async function handleRequest(
  request: IncomingMessage,
  response: ServerResponse,
  routing: ListenerRouting,
): Promise<void> {
  const target = parseTarget(request, response, routing.port);
  if (target === undefined) return;
  const { url, path, query } = target;
  if (routing.systemRoute(request, response, url)) return;
  const method = (request.method ?? 'GET').toUpperCase();
  // The host's HomepageMiddleware answers `/` before routing.
  const home = path === '/' && method === 'GET';
  const chosen = home ? undefined : chooseRoute(routing.functions(), path, method);
  if (chosen === undefined) {
    answerUnrouted(request, response, home, routing.limits);
    return;
  }
  const body = await readBody(request, response, routing.limits);
  if (!body.ok) {
    refuse(request, response, body.status);
    return;
  }
  // The host's RPC url is built from the DECODED path (scheme://host + Request.Path + QueryString).
  const rpcUrl = { href: `${url.protocol}//${url.host}${path}${query}`, query: url.searchParams };
  const endpoint = routing.worker();
  if (endpoint === undefined) {
    await serveOverRpc(request, response, chosen, rpcUrl, body.body, routing);
    return;
  }
  const rpc = toRpcHttp(request, rpcUrl, Buffer.alloc(0), chosen.params);
  // A declared body was read in full (as the host's trigger binding reads it); a chunked one is streamed.
  const read = declaredLength(request) === undefined ? undefined : body.body;
  const call = { fn: chosen.fn, rpc, path, query, body: read };
  await serveThroughWorker(request, response, endpoint, call, routing.invoke, routing.limits);
}

/** Malformed requests (e.g. bytes past a Content-Length read as a next request): Kestrel's empty rejection. */
function rejectMalformed(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const reason = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[status];
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
}

export async function startHttpListener(
  port: number,
  functions: () => readonly HttpFunction[],
  invoke: HttpInvoker,
  systemRoute: SystemRoute = () => false,
  limits: HttpLimits = defaultHttpLimits,
  /** The worker's own HTTP server when it takes requests there (HTTP streaming), else undefined. */
  worker: () => WorkerEndpoint | undefined = () => undefined,
): Promise<HttpListener> {
  const routing: ListenerRouting = { port, functions, invoke, systemRoute, limits, worker };
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    handleRequest(request, response, routing).catch(() => {
      answerEmpty(response, 500, false);
    });
  };
  const server = createServer(handle);
  // With a listener, Node leaves `Expect: 100-continue` to the handler (readBody) instead of inviting every body.
  server.on('checkContinue', handle);
  server.on('clientError', rejectMalformed);
  return {
    server,
    port: await listenOnLoopback(server, port),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
