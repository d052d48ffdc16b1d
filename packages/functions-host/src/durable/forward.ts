import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { webhookBasePath } from './clientInput';

/**
 * Check-status links (`createCheckStatusResponse`) carry the origin of the request that asked for
 * them, i.e. the Functions host, under `/runtime/webhooks/durabletask/`. A host that wants those
 * links to answer forwards that path to the durable backend with this.
 */
export function isDurableWebhookPath(pathname: string): boolean {
  return pathname.startsWith(webhookBasePath);
}

/** Forwards the request as is (same method, path, query, headers, body) and streams the answer back. */
export function forwardToDurable(req: IncomingMessage, res: ServerResponse, httpOrigin: string): void {
  // Only path and query: an absolute-form request target must not choose the upstream.
  const { pathname, search } = new URL(req.url ?? '/', httpOrigin);
  const target = new URL(`${pathname}${search}`, httpOrigin);
  const upstream = httpRequest(
    target,
    { method: req.method, headers: { ...req.headers, host: target.host } },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', (error) => {
    if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
    res.end(`durable backend unreachable: ${error.message}`);
  });
  req.pipe(upstream);
}
