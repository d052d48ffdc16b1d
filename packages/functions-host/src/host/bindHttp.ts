import type { DurableBackend } from '../durable/backend';
import { forwardToDurable, isDurableWebhookPath } from '../durable/forward';
import type { WorkerCapabilities } from './capabilities';
import type { RegisteredFunction } from './coreApi';
import { streamedTriggerMetadata, workerEndpoint, type WorkerEndpoint } from './http/proxy';
import { compileRoute } from './http/route';
import {
  defaultHttpLimits,
  startHttpListener,
  type HttpFunction,
  type HttpLimits,
  type HttpListener,
  type StreamedCall,
  type SystemRoute,
} from './http/server';
import type { Invocations } from './invocations';
import { methodsOf, stringProp, triggerOf, type TriggerBinding } from './triggers';
import type { RpcHttpData, RpcTypedData } from '../worker/contract';

/** The HTTP side of the host: one listener, the routes of the app's HTTP triggers, the calls in flight. */
export interface HttpBinding {
  url: string;
  port: number;
  /** Adds an httpTrigger function's route (served from the next request on). */
  route(functionName: string, trigger: TriggerBinding, routePrefix: string): void;
  /**
   * The worker's capabilities: with `HttpUri` (HTTP streaming) requests go to the worker's own server
   * from now on; its servers are closed with the binding.
   */
  useWorker(worker: WorkerCapabilities): void;
  /** Resolves once every call in flight has ended (failed or not). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface HttpBindingOptions {
  port: number;
  limits: HttpLimits;
  lookup(name: string): RegisteredFunction;
  run: Invocations['run'];
  /** The durable backend once started: its webhooks are served under the host's port, as with Core Tools. */
  durable(): DurableBackend | undefined;
  log(line: string): void;
}

/** FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, else the Functions host's 100 MB; options win over both. */
export function httpLimitsOf(options: Partial<HttpLimits> | undefined): HttpLimits {
  const setting = process.env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT;
  let fromSetting: number | undefined;
  if (setting !== undefined && setting !== '') {
    fromSetting = Number(setting);
    if (!Number.isSafeInteger(fromSetting) || fromSetting <= 0)
      throw new Error(`FUNCTIONS_REQUEST_BODY_SIZE_LIMIT must be a positive whole number of bytes, not '${setting}'.`);
  }
  return {
    maxRequestBodyBytes: options?.maxRequestBodyBytes ?? fromSetting ?? defaultHttpLimits.maxRequestBodyBytes,
    bodyIdleTimeoutMs: options?.bodyIdleTimeoutMs ?? defaultHttpLimits.bodyIdleTimeoutMs,
  };
}

/** The status code the listener will answer with, for the invocation line. */
function httpStatusOf(returnValue: unknown): string {
  if (returnValue === undefined || returnValue === null) return '204';
  if (typeof returnValue !== 'object' || !('http' in returnValue)) return '500';
  const http = returnValue.http;
  if (typeof http !== 'object' || http === null || !('statusCode' in http)) return '200';
  return String(http.statusCode);
}

/** Check-status links of durable clients point at the host, as with Core Tools: they go to the durable backend. */
function durableWebhooks(options: HttpBindingOptions): SystemRoute {
  return (request, response, url) => {
    const durable = options.durable();
    if (durable === undefined || !isDurableWebhookPath(url.pathname)) return false;
    forwardToDurable(request, response, durable.httpOrigin);
    return true;
  };
}

export async function bindHttp(options: HttpBindingOptions): Promise<HttpBinding> {
  let functions: readonly HttpFunction[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let worker: WorkerCapabilities | undefined;
  let endpoint: WorkerEndpoint | undefined;
  const invoke = (target: HttpFunction, request: RpcHttpData, streamed?: StreamedCall): Promise<unknown> => {
    const work = invokeHttp(options, target, request, streamed);
    inFlight.add(work);
    void work.catch(() => undefined).finally(() => inFlight.delete(work));
    return work;
  };
  const listener: HttpListener = await startHttpListener(
    options.port,
    () => functions,
    invoke,
    durableWebhooks(options),
    options.limits,
    () => endpoint,
  );
  const url = `http://localhost:${listener.port}`;
  return {
    url,
    port: listener.port,
    route(functionName, trigger, routePrefix) {
      const route = compileRoute(routePrefix, stringProp(trigger.binding, 'route') ?? functionName);
      const methods = methodsOf(trigger.binding);
      functions = [...functions, { name: functionName, route, methods }];
      options.log(`${functionName}: [${methods?.join(',') ?? 'ALL'}] ${url}/${route.template}`);
    },
    useWorker(capabilities) {
      worker = capabilities;
      if (capabilities.httpUri === undefined) return;
      endpoint = workerEndpoint(capabilities.httpUri);
      options.log(`HTTP streaming: HTTP requests are forwarded to the worker's server at ${capabilities.httpUri.href}`);
    },
    async drain() {
      await Promise.all([...inFlight].map((work) => work.catch(() => undefined)));
    },
    async close() {
      await listener.close();
      endpoint?.agent.destroy();
      await worker?.close();
    },
  };
}

function invokeHttp(
  options: HttpBindingOptions,
  target: HttpFunction,
  request: RpcHttpData,
  streamed: StreamedCall | undefined,
): Promise<unknown> {
  const fn = options.lookup(target.name);
  const triggerName = triggerOf(fn.info.bindings)?.name ?? 'httpTrigger';
  const describe = async (result: unknown, failed: boolean): Promise<string> => {
    const status = failed ? '500' : streamed === undefined ? httpStatusOf(result) : String(await streamed.status);
    return `${request.method} ${new URL(request.url).pathname} → ${status}`;
  };
  const data: RpcTypedData = { http: request };
  const invocation =
    streamed === undefined
      ? { inputData: [{ name: triggerName, data }], triggerMetadata: {} }
      : {
          // The request itself reaches the worker over its own server; RPC carries an empty one.
          inputData: [{ name: triggerName, data: { http: {} } }],
          triggerMetadata: streamedTriggerMetadata(request, streamed.body),
          invocationId: streamed.invocationId,
          http: request,
        };
  return options.run(fn, invocation, undefined, describe);
}
