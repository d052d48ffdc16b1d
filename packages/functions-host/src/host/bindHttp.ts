import type { DurableBackend } from '../durable/backend';
import { forwardToDurable, isDurableWebhookPath } from '../durable/forward';
import type { RegisteredFunction } from './coreApi';
import { compileRoute } from './http/route';
import {
  defaultHttpLimits,
  startHttpListener,
  type HttpFunction,
  type HttpLimits,
  type HttpListener,
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

export async function bindHttp(options: HttpBindingOptions): Promise<HttpBinding> {
  let functions: readonly HttpFunction[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const invoke = (target: HttpFunction, request: RpcHttpData): Promise<unknown> => {
    const work = invokeHttp(options, target, request);
    inFlight.add(work);
    void work.catch(() => undefined).finally(() => inFlight.delete(work));
    return work;
  };
  const listener: HttpListener = await startHttpListener(
    options.port,
    () => functions,
    invoke,
    (request, response, url) => {
      // Check-status links of durable clients point here, as with Core Tools.
      const durable = options.durable();
      if (durable === undefined || !isDurableWebhookPath(url.pathname)) return false;
      forwardToDurable(request, response, durable.httpOrigin);
      return true;
    },
    options.limits,
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
    async drain() {
      await Promise.all([...inFlight].map((work) => work.catch(() => undefined)));
    },
    close: () => listener.close(),
  };
}

function invokeHttp(options: HttpBindingOptions, target: HttpFunction, request: RpcHttpData): Promise<unknown> {
  const fn = options.lookup(target.name);
  const trigger = triggerOf(fn.info.bindings);
  const data: RpcTypedData = { http: request };
  const describe = (result: unknown, failed: boolean): string =>
    `${request.method} ${new URL(request.url).pathname} → ${failed ? '500' : httpStatusOf(result)}`;
  return options.run(
    fn,
    { inputData: [{ name: trigger?.name ?? 'httpTrigger', data }], triggerMetadata: {} },
    undefined,
    describe,
  );
}
