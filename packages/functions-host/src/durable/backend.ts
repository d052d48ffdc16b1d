import { createServer } from 'node:http';
import { cpus } from 'node:os';
import type { InvokeFunction, RegisteredFunctionInfo, TypedData } from '../worker/contract';
import { FunctionCatalog } from './catalog';
import { buildClientInput } from './clientInput';
import { systemClock, type DurableClock } from './clock';
import { EntityScheduler, type SavedEntity } from './entities';
import { createHttpApi } from './httpApi';
import { Journal } from './journal';
import { listenOnLoopback } from './loopback';
import type { SavedInstance } from './instances';
import { OrchestrationEngine } from './orchestrations';
import { Persistence } from './persistence';
import { Limiter, WorkTracker } from './work';

/**
 * A local stand-in for the Durable Task extension: it keeps orchestration histories, schedules
 * activities, timers and entity operations, and serves the durable HTTP API the library's
 * DurableClient calls. In memory unless `dataDir` is set (see docs/durable-local.md).
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
  /**
   * Keep instances, entities and pending work in `<dataDir>/durable.journal` (fsynced before the
   * HTTP API answers), and resume them on the next start. Absent = in memory only.
   */
  dataDir?: string;
}

const journalName = 'durable.journal';

/** Splits the saved records by kind; anything else in the file is an error naming the key. */
function savedRecords(
  records: ReadonlyMap<string, unknown>,
  file: string,
): { instances: SavedInstance[]; entities: SavedEntity[] } {
  const instances: SavedInstance[] = [];
  const entities: SavedEntity[] = [];
  for (const [key, value] of records) {
    const shaped = typeof value === 'object' && value !== null;
    if (key.startsWith('i/') && shaped && 'instanceId' in value && 'history' in value && 'inbox' in value) {
      instances.push(value as SavedInstance);
    } else if (key.startsWith('e/') && shaped && 'schedulerId' in value && 'ops' in value) {
      entities.push(value as SavedEntity);
    } else throw new Error(`${file}: record '${key}' is neither a saved orchestration instance nor an entity.`);
  }
  return { instances, entities };
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

/** The engine and the entity scheduler, wired to each other and to what saves them. */
interface Runtime {
  work: WorkTracker;
  catalog: FunctionCatalog;
  engine: OrchestrationEngine;
  entities: EntityScheduler;
  /** Set once a dataDir is open: every change is marked there. */
  saving: { persistence?: Persistence };
}

function createRuntime(options: DurableBackendOptions, log: (line: string) => void): Runtime {
  const clock = options.clock ?? systemClock;
  const work = new WorkTracker();
  const catalog = new FunctionCatalog(options.functions);
  const defaultConcurrency = 10 * Math.max(1, cpus().length);
  const saving: Runtime['saving'] = {};
  const engine = new OrchestrationEngine({
    catalog,
    invoke: options.invoke,
    work,
    clock,
    log,
    activityLimiter: new Limiter(options.maxConcurrentActivityFunctions ?? defaultConcurrency),
    orchestratorLimiter: new Limiter(options.maxConcurrentOrchestratorFunctions ?? defaultConcurrency),
    persist: (id) => saving.persistence?.mark(`i/${id}`),
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
    persist: (id) => saving.persistence?.mark(`e/${id}`),
  });
  engine.attachEntities(entities);
  return { work, catalog, engine, entities, saving };
}

type Saved = ReturnType<typeof savedRecords> & Awaited<ReturnType<typeof Journal.open>>;

/** Reads the saved state before anything listens, so a bad file fails the start with nothing left open. */
async function openSaved(runtime: Runtime, dataDir: string, log: (line: string) => void): Promise<Saved> {
  const opened = await Journal.open(dataDir, journalName);
  let records: ReturnType<typeof savedRecords>;
  try {
    records = savedRecords(opened.records, opened.journal.file);
  } catch (error) {
    await opened.journal.close();
    throw error;
  }
  const { engine, entities } = runtime;
  runtime.saving.persistence = new Persistence(
    opened.journal,
    (key) => (key.startsWith('i/') ? engine.serialize(key.slice(2)) : entities.serialize(key.slice(2))),
    log,
  );
  return { ...opened, ...records };
}

/** Resumes what was pending when the state was saved: activities re-run, timers re-armed, entity queues. */
function resume(runtime: Runtime, saved: Saved, log: (line: string) => void): void {
  if (saved.dropped > 0) log(`durable backend: dropped ${saved.dropped} torn line(s) of ${saved.journal.file}`);
  runtime.engine.restore(saved.instances);
  runtime.entities.restore(saved.entities);
  log(
    `durable backend: state in ${saved.journal.file}: ${saved.instances.length} instance(s), ` +
      `${saved.entities.length} entit(ies) loaded, ${runtime.work.pending} pending work item(s) resumed`,
  );
}

export async function startDurableBackend(options: DurableBackendOptions): Promise<DurableBackend> {
  const log = options.log ?? (() => undefined);
  const runtime = createRuntime(options, log);
  const { engine, entities, work, catalog } = runtime;
  const saved = options.dataDir === undefined ? undefined : await openSaved(runtime, options.dataDir, log);

  let origin = '';
  const server = createServer(
    createHttpApi({
      engine,
      entities,
      clientData: () => buildClientInput(origin, options.taskHubName),
      synced: () => runtime.saving.persistence?.synced() ?? Promise.resolve(),
    }),
  );
  origin = `http://127.0.0.1:${String(await listenOnLoopback(server, options.port ?? 0))}`;
  log(
    `durable backend: task hub ${options.taskHubName}, ${catalog.count('orchestrationTrigger')} orchestrator(s), ` +
      `${catalog.count('activityTrigger')} activit(ies), ${catalog.count('entityTrigger')} entit(ies), API ${origin}/durabletask/`,
  );
  if (saved !== undefined) resume(runtime, saved, log);

  let closed: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    // Save first: closing drops queued entity operations and timer handles, which must stay pending on disk.
    await runtime.saving.persistence?.stop();
    engine.close();
    entities.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  };
  return {
    httpOrigin: origin,
    clientInput: () => ({ json: JSON.stringify(buildClientInput(origin, options.taskHubName)) }),
    whenIdle: () => work.whenIdle(),
    stats: () => ({ orchestrations: engine.countByStatus(), entities: entities.count(), pendingWork: work.pending }),
    close() {
      closed ??= close();
      return closed;
    },
  };
}
