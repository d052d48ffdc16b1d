import {
  Agent,
  request as httpRequest,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { RpcHttpData, RpcTypedData } from '../invoke';

/**
 * The host's side of HTTP streaming: a request for an HTTP function of a worker that announced an
 * `HttpUri` is forwarded to that address (azure-functions-host `DefaultHttpProxyService.StartForwarding`,
 * YARP's `HttpForwarder` with its default transforms), tagged with the invocation id the worker matches
 * it to (`x-ms-invocation-id`), while the invocation itself goes over RPC without a body. The worker's
 * HTTP response is the client's response.
 */

/** Hop-by-hop headers, which a forwarder never passes on (YARP `RequestUtilities`). */
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function endToEnd(headers: IncomingHttpHeaders, drop: readonly string[] = []): OutgoingHttpHeaders {
  const named = new Set([...drop, ...(headers.connection ?? '').split(',').map((name) => name.trim().toLowerCase())]);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !hopByHop.has(name) && !named.has(name)) out[name] = value;
  }
  return out;
}

/**
 * The path YARP puts on the forwarded request (`RequestUtilities.MakeDestinationAddress`): the routed,
 * decoded path with characters valid in a path kept and every run of others percent-encoded as UTF-8
 * (`%` included, so a `%2F` Kestrel left encoded arrives as `%252F`).
 */
export function destinationPath(path: string): string {
  return path.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/]+/g, (run) =>
    [...Buffer.from(run, 'utf8')].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

export interface WorkerEndpoint {
  uri: URL;
  /** Pooled connections to the worker, as the host's SocketsHttpHandler keeps them. */
  agent: Agent;
}

export function workerEndpoint(uri: URL): WorkerEndpoint {
  return { uri, agent: new Agent({ keepAlive: true }) };
}

export interface ForwardOptions {
  invocationId: string;
  /** The routed path (decoded, dot segments removed) and the raw query. */
  path: string;
  query: string;
  /** A body the host already read in full (a declared Content-Length); undefined: stream the request's own. */
  body: Buffer | undefined;
  /** Streaming a chunked body stops here: Kestrel's MaxRequestBodySize counts what the forwarder reads. */
  maxBodyBytes: number;
}

/**
 * How an exchange ended: `answered` (the worker's response went to the client), `too-large` (the
 * streamed body passed the limit before the worker answered; nothing sent yet), `unreachable` (no
 * response from the worker; nothing sent), `abandoned` (the caller gave up, or the client left).
 */
export type ExchangeEnd = 'answered' | 'too-large' | 'unreachable' | 'abandoned';

export interface WorkerExchange {
  ended: Promise<ExchangeEnd>;
  /** The worker's status, once its response headers arrived. */
  status(): number | undefined;
  /** Whether the client's body was read to its end (else the caller deals with the rest). */
  bodyDone(): boolean;
  /** Stops forwarding: the worker will not answer (its invocation failed) or must not be waited for. */
  abandon(): void;
}

function forwardedHeaders(request: IncomingMessage, options: ForwardOptions): OutgoingHttpHeaders {
  // YARP's default transforms: the original Host goes (the destination's is used), X-Forwarded-* come.
  const headers = endToEnd(request.headers, ['host']);
  const remote = request.socket.remoteAddress;
  if (remote !== undefined) headers['x-forwarded-for'] = remote;
  headers['x-forwarded-proto'] = 'http';
  if (request.headers.host !== undefined) headers['x-forwarded-host'] = request.headers.host;
  headers['x-ms-invocation-id'] = options.invocationId;
  return headers;
}

/** Writes the request's body to the worker as it arrives, pausing while the worker is not reading. */
function pumpBody(
  request: IncomingMessage,
  upstream: ClientRequest,
  maxBodyBytes: number,
  tooLarge: () => void,
): { stop(): void; done(): boolean } {
  let received = 0;
  let done = request.readableEnded;
  const resume = (): void => {
    request.resume();
  };
  const onData = (chunk: Buffer): void => {
    received += chunk.length;
    if (received > maxBodyBytes) {
      stop();
      tooLarge();
    } else if (!upstream.write(chunk)) {
      request.pause();
      upstream.once('drain', resume);
    }
  };
  const onEnd = (): void => {
    done = true;
    upstream.end();
  };
  function stop(): void {
    request.off('data', onData);
    request.off('end', onEnd);
    upstream.off('drain', resume);
    request.pause();
  }
  request.on('data', onData);
  request.on('end', onEnd);
  return { stop, done: () => done };
}

/** Opens the request to the worker's server, headers sent at once. */
function openUpstream(request: IncomingMessage, endpoint: WorkerEndpoint, options: ForwardOptions): ClientRequest {
  const base = endpoint.uri.pathname.replace(/\/$/, '');
  const upstream = httpRequest({
    hostname: endpoint.uri.hostname,
    port: endpoint.uri.port,
    method: request.method ?? 'GET',
    path: `${base}${destinationPath(options.path)}${options.query}`,
    headers: forwardedHeaders(request, options),
    agent: endpoint.agent,
  });
  // Headers first, as the forwarder sends them: the worker's invocation waits for this request by its id.
  upstream.flushHeaders();
  return upstream;
}

/** How the exchange ended, and what settles it (the first end counts). */
function exchangeEnd(): { ended: Promise<ExchangeEnd>; finish: (end: ExchangeEnd) => void } {
  let settle: (end: ExchangeEnd) => void = () => undefined;
  const ended = new Promise<ExchangeEnd>((resolve) => {
    settle = resolve;
  });
  return {
    ended,
    finish: (end) => {
      settle(end);
    },
  };
}

export function forwardToWorker(
  request: IncomingMessage,
  response: ServerResponse,
  endpoint: WorkerEndpoint,
  options: ForwardOptions,
): WorkerExchange {
  const upstream = openUpstream(request, endpoint, options);
  let status: number | undefined;
  const { ended, finish } = exchangeEnd();
  const stopWorker = (end: ExchangeEnd): void => {
    body?.stop();
    upstream.destroy();
    finish(end);
  };
  const streamed = options.body === undefined && request.headers['transfer-encoding'] !== undefined;
  const tooLarge = (): void => {
    stopWorker('too-large');
  };
  const body = streamed ? pumpBody(request, upstream, options.maxBodyBytes, tooLarge) : undefined;
  if (!streamed) upstream.end(options.body);

  upstream.on('response', (answer) => {
    status = answer.statusCode ?? 502;
    response.writeHead(status, endToEnd(answer.headers));
    answer.pipe(response);
    answer.on('end', () => {
      // The answer is complete: the worker reads no more of a body it did not take in full.
      if (body !== undefined && !body.done()) stopWorker('answered');
      finish('answered');
    });
  });
  upstream.on('error', () => {
    finish(status === undefined ? 'unreachable' : 'answered');
  });
  response.on('close', () => {
    if (!response.writableFinished) stopWorker('abandoned');
  });
  return {
    ended,
    status: () => status,
    bodyDone: () => !streamed || (body?.done() ?? true),
    abandon: () => {
      if (status === undefined) stopWorker('abandoned');
    },
  };
}

/** A JSON body's top-level field as the HTTP extension keeps it (`Utility.ApplyBindingData`): arrays and nulls left out. */
function bodyField(value: unknown): RpcTypedData | undefined {
  if (value === null || Array.isArray(value)) return undefined;
  if (typeof value === 'object') return { json: JSON.stringify(value) };
  if (typeof value === 'boolean') return { string: value ? 'True' : 'False' };
  return typeof value === 'string' || typeof value === 'number' ? { string: String(value) } : undefined;
}

function jsonObjectIn(body: Buffer | undefined): Record<string, unknown> {
  const text = body?.toString('utf8').trim() ?? '';
  if (!text.startsWith('{') || !text.endsWith('}')) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {}; // not an error: a body need not be JSON
  }
}

/**
 * The trigger metadata the host sends with a streamed call: the HTTP trigger's binding data
 * (`HttpTriggerAttributeBindingProvider.GetRequestBindingData`, a case-insensitive dictionary): a JSON
 * body's top-level fields (only a body the host read, i.e. one with a Content-Length), then every query
 * value but `code`, then the route values, each replacing the one before; then `Query` and `Headers`.
 * The library takes `request.headers` from `Headers` and `request.params` from every other string, so
 * query values and body fields show up among the params.
 */
export function streamedTriggerMetadata(http: RpcHttpData, body: Buffer | undefined): Record<string, RpcTypedData> {
  const data = new Map<string, [string, RpcTypedData]>();
  const put = (key: string, value: RpcTypedData | undefined): void => {
    if (value === undefined) return;
    data.set(key.toLowerCase(), [data.get(key.toLowerCase())?.[0] ?? key, value]);
  };
  for (const [key, value] of Object.entries(jsonObjectIn(body))) put(key, bodyField(value));
  const query = new URL(http.url).searchParams;
  for (const key of new Set(query.keys())) {
    if (key.toLowerCase() !== 'code') put(key, { string: query.getAll(key).at(-1) ?? '' });
  }
  for (const [key, value] of Object.entries(http.params)) put(key, { string: value });
  if (!data.has('query')) put('Query', { json: JSON.stringify(Object.fromEntries(query)) });
  if (!data.has('headers')) put('Headers', { json: JSON.stringify(http.headers) });
  return Object.fromEntries(data.values());
}
