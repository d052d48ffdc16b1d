import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import type { InvokeFunction, RegisteredFunctionInfo, TypedData } from '../host/types';
import { FunctionCatalog } from './catalog';
import { buildClientInput } from './clientInput';
import { systemClock, type DurableClock } from './clock';
import { EntityScheduler } from './entities';
import { createHttpApi } from './httpApi';
import { OrchestrationEngine } from './orchestrations';
import { Limiter, WorkTracker } from './work';

/**
 * A local, in-memory stand-in for the Durable Task extension: it keeps orchestration histories,
 * schedules activities, timers and entity operations, and serves the durable HTTP API the library's
 * DurableClient calls. Not the production engine: nothing is persisted (see docs/durable-local.md).
 */
export interface DurableBackendOptions {
  taskHubName: string; // from host.json extensions.durableTask.hubName
  functions: readonly RegisteredFunctionInfo[]; // every registered function; pick orchestration/activity/entity triggers by binding type
  invoke: InvokeFunction;
  log?: (line: string) => void;
  /** host.json extensions.durableTask.maxConcurrentActivityFunctions (default 10 × cores, as in the extension). */
  maxConcurrentActivityFunctions?: number;
  /** host.json extensions.durableTask.maxConcurrentOrchestratorFunctions (default 10 × cores). */
  maxConcurrentOrchestratorFunctions?: number;
  /** Largest entity batch per invocation (the extension's maxEntityOperationBatchSize; default 50). */
  maxEntityOperationBatchSize?: number;
  /** 127.0.0.1 port for the durable HTTP API; 0 (default) picks a free one. */
  port?: number;
  clock?: DurableClock;
}

export interface DurableBackend {
  /** The TypedData to pass for a `durableClient` input binding (what df.getClient(context) parses). */
  clientInput(): TypedData;
  /** Resolves when no orchestration/activity/entity work is pending or running. */
  whenIdle(): Promise<void>;
  stats(): { orchestrations: Record<string, number>; entities: number; pendingWork: number }; // orchestrations by runtimeStatus
  close(): Promise<void>;
  /**
   * Origin of the durable HTTP API (http://127.0.0.1:port). Check-status links point at
   * `<host origin>/runtime/webhooks/durabletask/...`; a host forwards that path here.
   */
  readonly httpOrigin: string;
}

export async function startDurableBackend(options: DurableBackendOptions): Promise<DurableBackend> {
  const log = options.log ?? (() => undefined);
  const clock = options.clock ?? systemClock;
  const work = new WorkTracker();
  const catalog = new FunctionCatalog(options.functions);
  const defaultConcurrency = 10 * Math.max(1, cpus().length);
  const engine = new OrchestrationEngine({
    catalog,
    invoke: options.invoke,
    work,
    clock,
    log,
    activityLimiter: new Limiter(options.maxConcurrentActivityFunctions ?? defaultConcurrency),
    orchestratorLimiter: new Limiter(options.maxConcurrentOrchestratorFunctions ?? defaultConcurrency),
  });
  const entities = new EntityScheduler({
    catalog,
    invoke: options.invoke,
    work,
    clock,
    log,
    respond: (caller, requestId, response) => {
      engine.deliverEntityResponse(caller, requestId, response);
    },
    maxBatchSize: options.maxEntityOperationBatchSize ?? 50,
  });
  engine.attachEntities(entities);

  let origin = '';
  const server = createServer(
    createHttpApi({ engine, entities, clientData: () => buildClientInput(origin, options.taskHubName) }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('The durable HTTP API did not get a TCP port.');
  origin = `http://127.0.0.1:${(address satisfies AddressInfo).port}`;
  log(
    `durable backend: task hub ${options.taskHubName}, ${catalog.count('orchestrationTrigger')} orchestrator(s), ` +
      `${catalog.count('activityTrigger')} activit(ies), ${catalog.count('entityTrigger')} entit(ies), API ${origin}/durabletask/`,
  );

  let closed: Promise<void> | undefined;
  return {
    httpOrigin: origin,
    clientInput: () => ({ json: JSON.stringify(buildClientInput(origin, options.taskHubName)) }),
    whenIdle: () => work.whenIdle(),
    stats: () => ({ orchestrations: engine.countByStatus(), entities: entities.count(), pendingWork: work.pending }),
    close() {
      closed ??= (async () => {
        engine.close();
        entities.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) =>
          server.close(() => {
            resolve();
          }),
        );
      })();
      return closed;
    },
  };
}
