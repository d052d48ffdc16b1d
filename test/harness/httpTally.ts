import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/**
 * Counts every HTTP request the host process sends, as Node's http client starts it (the
 * `http.client.request.start` diagnostics channel): below the app, the Azure SDKs and the durable
 * client, so the bench counts what goes on the wire, not what the app says it did. SDK retries
 * count once per attempt. Keys name the target and the operation: `table:<name>:<op>`,
 * `table:-:<op>` (service-level: create table, batch), `durable:<op>`, `storage:other`, `http:other`.
 */
export type HttpTally = Record<string, number>;

/** The port of TableEndpoint=http://host:port/… in an Azurite connection string. */
export function tablePortOf(connectionString: string | undefined): number | undefined {
  const match = /TableEndpoint=https?:\/\/[^:/;]+:(\d+)/i.exec(connectionString ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Azurite table paths: /<account>/Tables, /<account>/$batch, /<account>/<table>(<keys>)?query. */
export function tableOperation(method: string, path: string): string {
  const [, , resource = ''] = (path.split('?')[0] ?? '').split('/');
  const decoded = decodeURIComponent(resource);
  if (decoded === 'Tables' || decoded.startsWith('Tables(')) return `table:-:${method === 'GET' ? 'list' : 'setup'}`;
  if (decoded === '$batch') return 'table:-:batch';
  const keyed = /^([A-Za-z][A-Za-z0-9]*)\((.*)\)$/.exec(decoded);
  const table = keyed?.[1] ?? decoded;
  const hasKeys = keyed !== null && keyed[2] !== '';
  const op =
    method === 'GET'
      ? hasKeys
        ? 'read'
        : 'query'
      : method === 'POST'
        ? 'create'
        : method === 'DELETE'
          ? 'delete'
          : 'write'; // PUT, MERGE, PATCH: replace or merge
  return `table:${table}:${op}`;
}

/** The durable client's RPC calls (/durabletask/…): orchestration starts apart from status reads and the rest. */
export function durableOperation(method: string, path: string): string | undefined {
  if (!path.startsWith('/durabletask/')) return undefined;
  if (method === 'POST' && path.startsWith('/durabletask/orchestrators/')) return 'durable:start';
  if (method === 'GET' && path.startsWith('/durabletask/instances/')) return 'durable:status';
  return 'durable:other';
}

export function classify(request: Pick<ClientRequest, 'method' | 'path' | 'getHeader'>, tablePort?: number): string {
  const durable = durableOperation(request.method, request.path);
  if (durable !== undefined) return durable;
  const hostHeader = String(request.getHeader('host') ?? '');
  const port = Number(/:(\d+)$/.exec(hostHeader)?.[1]);
  if (tablePort !== undefined && port === tablePort) return tableOperation(request.method, request.path);
  return request.path.startsWith('/devstoreaccount1/') ? 'storage:other' : 'http:other';
}

/** Starts counting; the returned function gives a copy of the counts so far. */
export function tallyOutgoingHttp(tablePort: number | undefined): () => HttpTally {
  const tally: HttpTally = {};
  subscribe('http.client.request.start', (message) => {
    const { request } = message as { request: ClientRequest };
    const key = classify(request, tablePort);
    tally[key] = (tally[key] ?? 0) + 1;
  });
  return () => ({ ...tally });
}

export function tallyDelta(from: HttpTally, to: HttpTally): HttpTally {
  const delta: HttpTally = {};
  for (const [key, value] of Object.entries(to)) {
    const change = value - (from[key] ?? 0);
    if (change !== 0) delta[key] = change;
  }
  return delta;
}
