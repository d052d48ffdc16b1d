import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';

/**
 * Plays the Durable extension's HTTP API (the `rpcBaseUrl` surface the JS durable client calls) on
 * 127.0.0.1, so tests run the real `df.getClient(context)` over a real socket. It records requests
 * and answers from state the test sets; it does not run orchestrations.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: string;
}

export interface InstanceStatus {
  name: string;
  runtimeStatus: string;
  input: unknown;
}

export interface DurableExtensionStub {
  baseUrl: string;
  requests: RecordedRequest[];
  instances: Map<string, InstanceStatus>;
  /** entity "name/key" → state; absent = the entity does not exist. */
  entities: Map<string, unknown>;
  /** When set, every request answers with this HTTP status (a failing extension). */
  failWith: number | undefined;
  /** When set, only the next request answers with this HTTP status (then it is cleared). */
  failNextWith: number | undefined;
  /** An InvocationContext whose extraInputs carry this stub's client data, as the host provides it. */
  contextFor(functionName: string): InvocationContext;
  /** Forgets recorded requests, instances and entities and stops failing: a clean extension per test. */
  reset(): void;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

function json(response: ServerResponse, status: number, body?: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(body === undefined ? '' : JSON.stringify(body));
}

export async function startDurableExtensionStub(): Promise<DurableExtensionStub> {
  const stub: Omit<DurableExtensionStub, 'baseUrl' | 'contextFor' | 'reset' | 'close'> = {
    requests: [],
    instances: new Map(),
    entities: new Map(),
    failWith: undefined,
    failNextWith: undefined,
  };

  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const body = await readBody(request);
      const path = url.pathname.replace(/^\/runtime\/webhooks\/durabletask\//, '');
      stub.requests.push({ method: request.method ?? '', path, query: Object.fromEntries(url.searchParams), body });
      const failure = stub.failWith ?? stub.failNextWith;
      if (failure !== undefined) {
        stub.failNextWith = undefined;
        json(response, failure, { message: 'stub failure' });
        return;
      }
      const [kind, first, second] = path.split('/');
      if (kind === 'instances' && first !== undefined && request.method === 'GET') {
        const instance = stub.instances.get(first);
        if (instance === undefined) {
          json(response, 404);
          return;
        }
        const now = new Date().toISOString();
        json(response, 200, { ...instance, instanceId: first, createdTime: now, lastUpdatedTime: now, output: null });
        return;
      }
      if (kind === 'orchestrators' && first !== undefined && second !== undefined && request.method === 'POST') {
        stub.instances.set(second, {
          name: first,
          runtimeStatus: 'Pending',
          input: body === '' ? null : JSON.parse(body),
        });
        json(response, 202, { id: second });
        return;
      }
      if (kind === 'entities' && first !== undefined && second !== undefined) {
        const key = `${first}/${second}`;
        if (request.method === 'GET') {
          if (stub.entities.has(key)) json(response, 200, stub.entities.get(key));
          else json(response, 404);
          return;
        }
        if (request.method === 'POST') {
          json(response, 202);
          return;
        }
      }
      json(response, 400, { message: `stub does not serve ${request.method ?? ''} ${path}` });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('The stub is not listening on a TCP port.');
  const baseUrl = `http://127.0.0.1:${String(address.port)}/runtime/webhooks/durabletask/`;

  const clientInput = df.input.durableClient();
  const clientData = {
    taskHubName: 'ConvoyHub',
    creationUrls: {},
    managementUrls: {},
    baseUrl,
    requiredQueryStringParameters: '',
    rpcBaseUrl: baseUrl,
  };

  // Same object the server reads, so a test's `failWith = 503` takes effect.
  return Object.assign(stub, {
    baseUrl,
    contextFor(functionName: string): InvocationContext {
      const context = new InvocationContext({
        functionName,
        logHandler: () => undefined,
        options: { trigger: { type: 'httpTrigger', name: 'request' }, extraInputs: [clientInput], extraOutputs: [] },
      });
      context.extraInputs.set(clientInput, clientData);
      return context;
    },
    reset(): void {
      stub.requests.length = 0;
      stub.instances.clear();
      stub.entities.clear();
      stub.failWith = undefined;
      stub.failNextWith = undefined;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error === undefined) resolve();
          else reject(error);
        });
        server.closeAllConnections();
      }),
  });
}
