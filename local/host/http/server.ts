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

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
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
): Promise<HttpListener> {
  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', `http://${request.headers.host ?? `localhost:${String(port)}`}`);
      if (systemRoute(request, response, url)) return;
      const method = (request.method ?? 'GET').toUpperCase();
      const candidates = functions()
        .map((fn) => ({ fn, params: fn.route.match(url.pathname) }))
        .filter((c): c is { fn: HttpFunction; params: Record<string, string> } => c.params !== undefined)
        .filter((c) => c.fn.methods === undefined || c.fn.methods.includes(method))
        .sort((a, b) => b.fn.route.precedence - a.fn.route.precedence);
      const chosen = candidates[0];
      if (chosen === undefined) {
        await readBody(request);
        if (url.pathname === '/' && method === 'GET') {
          response
            .writeHead(200, { 'content-type': 'text/plain' })
            .end('Your Functions 4.0 app is up and running (local host)\n');
        } else {
          response.writeHead(404).end();
        }
        return;
      }
      const body = await readBody(request);
      try {
        writeResult(response, await invoke(chosen.fn, toRpcHttp(request, url, body, chosen.params)));
      } catch {
        if (!response.headersSent) response.writeHead(500);
        response.end();
      }
    })().catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
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
