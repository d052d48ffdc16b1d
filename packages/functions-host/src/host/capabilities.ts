import { createRequire } from 'node:module';
import type * as NodeHttp from 'node:http';
import type { Server } from 'node:http';
import type { ProgrammingModel } from './coreApi';

/**
 * The worker's capabilities, asked of the app's programming model as the Node worker asks when the host
 * initialises it (azure-functions-nodejs-worker 3.x `getWorkerCapabilities`, sent in WorkerInitResponse).
 * With `app.setup({ enableHttpStream: true })` the library starts its own HTTP server there and returns
 * its address as the `HttpUri` capability: the host then forwards every HTTP-triggered request to it
 * (azure-functions-host `GrpcWorkerChannel`, `DefaultHttpProxyService`) instead of sending it over RPC.
 */

/** What the worker (3.9.1) claims before the library adds its own. */
const workerDefaults: Readonly<Record<string, string>> = {
  RawHttpBodyBytes: 'true',
  RpcHttpTriggerMetadataRemoved: 'true',
  RpcHttpBodyOnly: 'true',
  IgnoreEmptyValuedRpcHttpHeaders: 'true',
  UseNullableValueDictionaryForHttp: 'true',
  WorkerStatus: 'true',
  TypedDataCollection: 'true',
  HandlesWorkerTerminateMessage: 'true',
};

export interface WorkerCapabilities {
  capabilities: Record<string, string>;
  /** `HttpUri`: where the library's HTTP server takes proxied requests; undefined without HTTP streaming. */
  httpUri: URL | undefined;
  /** Closes the servers the library opened: in a real worker the process ends instead, so it never does. */
  close(): Promise<void>;
}

// The real module object (not an import's copy), so its createServer can be watched below.
const nodeHttp = createRequire(__filename)('node:http') as typeof NodeHttp;

/**
 * Runs `start` and returns the HTTP servers created while it ran synchronously. The library keeps its
 * proxy server to itself (no handle, no close); the host must close it on stop or the process stays
 * up. `setupHttpProxy` creates it synchronously inside `getCapabilities`, so this window is exact.
 */
function serversCreatedBy<T>(start: () => T): { result: T; servers: Server[] } {
  const servers: Server[] = [];
  const original = nodeHttp.createServer;
  nodeHttp.createServer = new Proxy(original, {
    apply(target, thisArg, args: unknown[]) {
      const server: unknown = Reflect.apply(target, thisArg, args);
      if (server instanceof nodeHttp.Server) servers.push(server as Server);
      return server;
    },
  });
  try {
    return { result: start(), servers };
  } finally {
    nodeHttp.createServer = original;
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => {
      resolve();
    });
    server.closeAllConnections();
  });
}

/** Asks the programming model for its capabilities (this locks `app.setup`, as in the worker). */
export async function workerCapabilities(model: ProgrammingModel): Promise<WorkerCapabilities> {
  const getCapabilities = model.getCapabilities;
  if (typeof getCapabilities !== 'function') {
    return { capabilities: { ...workerDefaults }, httpUri: undefined, close: () => Promise.resolve() };
  }
  const started = serversCreatedBy(() => Reflect.apply(getCapabilities, model, [{ ...workerDefaults }]) as unknown);
  const close = async (): Promise<void> => {
    await Promise.all(started.servers.map(closeServer));
  };
  try {
    const capabilities = parseCapabilities(await started.result);
    const uri = capabilities.HttpUri;
    return { capabilities, httpUri: uri === undefined || uri === '' ? undefined : new URL(uri), close };
  } catch (error) {
    await close();
    throw error;
  }
}

function parseCapabilities(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null)
    throw new Error('The programming model returned no capabilities from getCapabilities().');
  const entries = Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  return Object.fromEntries(entries);
}
