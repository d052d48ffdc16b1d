import type { IncomingMessage, ServerResponse } from 'node:http';
import { text as readText } from 'node:stream/consumers';
import { managementPayload, rpcBasePath, webhookBasePath, type DurableClientInputData } from './clientInput';
import type { EntityScheduler } from './entities';
import { EventType, type HistoryEvent } from './history';
import { runtimeStatuses, type InstanceView, type RuntimeStatus } from './instances';
import type { OrchestrationEngine } from './orchestrations';

/**
 * The extension's durable HTTP API (HttpApiHandler): the same routes, verbs and status codes, served
 * under both the RPC base path the library calls and the webhook path used in check-status links.
 */
export interface HttpApiDeps {
  engine: OrchestrationEngine;
  entities: EntityScheduler;
  clientData: () => DurableClientInputData;
  /** Resolves once every change is on disk (dataDir); changes are answered only after it. */
  synced: () => Promise<void>;
}

interface Reply {
  status: number;
  body?: unknown;
  /** Sent as is (entity state is already JSON text). */
  rawJson?: string;
  headers?: Record<string, string>;
}

const eventTypeNames = new Map<number, string>(Object.entries(EventType).map(([name, value]) => [value, name]));

/** yyyy-MM-ddTHH:mm:ssZ, the extension's ToString("s") + "Z". */
function statusTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

function parseJsonText(json: string | null): unknown {
  return json === null ? null : (JSON.parse(json) as unknown);
}

function historyView(history: readonly HistoryEvent[], withOutput: boolean): unknown[] {
  return history
    .filter((e) => e.EventType !== EventType.OrchestratorStarted && e.EventType !== EventType.OrchestratorCompleted)
    .map((e) => {
      const { EventType: type, IsPlayed: _played, ...rest } = e;
      const view: Record<string, unknown> = { EventType: eventTypeNames.get(type) ?? String(type), ...rest };
      if (!withOutput) {
        delete view.Result;
        delete view.Input;
      }
      return view;
    });
}

function statusPayload(
  view: InstanceView,
  options: { showHistory: boolean; showHistoryOutput: boolean; showInput: boolean },
) {
  return {
    name: view.name,
    instanceId: view.instanceId,
    runtimeStatus: view.runtimeStatus,
    input: options.showInput ? parseJsonText(view.input) : null,
    customStatus: view.customStatus ?? null,
    output: view.output ?? null,
    createdTime: statusTime(view.createdTime),
    lastUpdatedTime: statusTime(view.lastUpdatedTime),
    ...(options.showHistory ? { historyEvents: historyView(view.history, options.showHistoryOutput) } : {}),
  };
}

function flag(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = query.get(name)?.toLowerCase();
  return value === 'true' ? true : value === 'false' ? false : fallback;
}

/** Empty body → null input; otherwise the body must be JSON (400 "Invalid JSON content" as in the extension). */
function jsonBodyText(body: string): { ok: true; text: string | null } | { ok: false } {
  if (body.trim() === '') return { ok: true, text: null };
  try {
    return { ok: true, text: JSON.stringify(JSON.parse(body)) };
  } catch {
    return { ok: false };
  }
}

/** One API call: the path after the base path, split at '/' and decoded. */
interface ApiRequest {
  method: string;
  segments: string[];
  query: URLSearchParams;
  body: () => Promise<string>;
}

const invalidJson: Reply = { status: 400, body: { Message: 'Invalid JSON content' } };

async function route(deps: HttpApiDeps, request: ApiRequest): Promise<Reply> {
  const [controller, first, second, third, ...extra] = request.segments;
  if (controller === 'orchestrators' && first !== undefined && third === undefined)
    return startOrchestration(deps, request, first, second);
  if (controller === 'entities' && extra.length === 0 && third === undefined)
    return entityRoute(deps, request, first, second);
  if (controller === 'instances') {
    if (extra.length > 0) return { status: 404 };
    if (first === undefined || first === '') return instancesQuery(deps, request);
    if (second === undefined || second === '') return oneInstance(deps, request, first);
    return instanceOperation(deps, request, first, second, third);
  }
  return { status: 404 };
}

async function startOrchestration(
  deps: HttpApiDeps,
  request: ApiRequest,
  name: string,
  instanceId: string | undefined,
): Promise<Reply> {
  if (request.method !== 'POST') return { status: 404 };
  const input = jsonBodyText(await request.body());
  if (!input.ok) return invalidJson;
  const started = deps.engine.start(name, instanceId === '' ? undefined : instanceId, input.text);
  if (!started.ok) return { status: started.status, body: { Message: started.message } };
  const links = managementPayload(deps.clientData(), started.instanceId);
  return { status: 202, body: links, headers: { Location: links.statusQueryGetUri ?? '', 'Retry-After': '10' } };
}

async function entityRoute(
  deps: HttpApiDeps,
  { method, query, body }: ApiRequest,
  name: string | undefined,
  key: string | undefined,
): Promise<Reply> {
  if (name === undefined || name === '') return { status: 400, body: { Message: 'An entity name is required.' } };
  if (method === 'GET' && (key === undefined || key === '')) {
    const entities = deps.entities.list(name).map((e) => ({
      entityId: { name: e.name, key: e.key },
      lastOperationTime: e.lastOperationTime === undefined ? null : statusTime(e.lastOperationTime),
      state: flag(query, 'fetchState', false) ? parseJsonText(e.state ?? null) : null,
    }));
    return { status: 200, body: entities };
  }
  if (key === undefined || key === '') return { status: 400, body: { Message: 'An entity key is required.' } };
  if (method === 'GET') {
    const entity = deps.entities.read(name, key);
    return entity.exists ? { status: 200, rawJson: entity.state ?? 'null' } : { status: 404 };
  }
  if (method === 'POST' || method === 'DELETE') {
    const input = jsonBodyText(await body());
    if (!input.ok) return invalidJson;
    const operation = query.get('op') ?? (method === 'DELETE' ? 'delete' : '');
    const error = deps.entities.signal(name, key, operation, input.text ?? undefined);
    return error === undefined ? { status: 202 } : { status: 400, body: { Message: error } };
  }
  return { status: 404 };
}

/** GET lists the instances a query selects; DELETE purges them. */
function instancesQuery({ engine }: HttpApiDeps, { method, query }: ApiRequest): Reply {
  const filtered = filterInstances(engine, query);
  if (method === 'GET') {
    const showInput = flag(query, 'showInput', false);
    return {
      status: 200,
      body: filtered.map((v) => statusPayload(v, { showHistory: false, showHistoryOutput: false, showInput })),
    };
  }
  if (method === 'DELETE') {
    if (query.get('createdTimeFrom') === null)
      return { status: 400, body: "Please provide value for 'createdTimeFrom' parameter." };
    const deleted = filtered.filter((v) => engine.purge(v.instanceId) === 'purged').length;
    return deleted === 0 ? { status: 404 } : { status: 200, body: { instancesDeleted: deleted } };
  }
  return { status: 404 };
}

/** GET is the status query (202 while running); DELETE purges a finished instance. */
function oneInstance({ engine }: HttpApiDeps, { method, query }: ApiRequest, instanceId: string): Reply {
  if (method === 'GET') {
    const view = engine.view(instanceId);
    if (view === undefined) return { status: 404 };
    const payload = statusPayload(view, {
      showHistory: flag(query, 'showHistory', false),
      showHistoryOutput: flag(query, 'showHistoryOutput', false),
      showInput: flag(query, 'showInput', true),
    });
    const running = view.runtimeStatus === 'Pending' || view.runtimeStatus === 'Running';
    const failedAs500 = view.runtimeStatus === 'Failed' && flag(query, 'returnInternalServerErrorOnFailure', false);
    return {
      status: running ? 202 : failedAs500 ? 500 : 200,
      body: payload,
      headers: running ? { 'Retry-After': '5' } : {},
    };
  }
  if (method === 'DELETE') {
    const purged = engine.purge(instanceId);
    if (purged === 'notFound') return { status: 404 };
    if (purged === 'notTerminal') {
      return {
        status: 412,
        body: `Only orchestrations in a terminal state can be purged, but the orchestration with instance ID ${instanceId} is still running`,
      };
    }
    return { status: 200, body: { instancesDeleted: 1 } };
  }
  return { status: 404 };
}

async function instanceOperation(
  { engine }: HttpApiDeps,
  { method, query, body }: ApiRequest,
  instanceId: string,
  operation: string,
  eventName: string | undefined,
): Promise<Reply> {
  if (method !== 'POST') return { status: 404 };
  const op = operation.toLowerCase();
  if (op === 'raiseevent' && eventName !== undefined && eventName !== '') {
    const input = jsonBodyText(await body());
    if (!input.ok) return invalidJson;
    return { status: outcomeStatus(engine.raiseEvent(instanceId, eventName, input.text)) };
  }
  if (eventName !== undefined) return { status: 404 };
  if (op === 'terminate') return { status: outcomeStatus(engine.terminate(instanceId, query.get('reason') ?? '')) };
  if (op === 'rewind' || op === 'suspend' || op === 'resume' || op === 'restart') {
    if (engine.view(instanceId) === undefined) return { status: 404 };
    return { status: 501, body: `The ${op} operation is not supported by the local durable backend.` };
  }
  return { status: 404 };
}

function respond(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload = '';
  if (reply.rawJson !== undefined) payload = reply.rawJson;
  else if (reply.body !== undefined) payload = JSON.stringify(reply.body);
  if (payload !== '') headers['Content-Type'] = 'application/json; charset=utf-8';
  res.writeHead(reply.status, headers).end(payload);
}

export function createHttpApi(deps: HttpApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const base = [rpcBasePath, webhookBasePath].find((b) => url.pathname.startsWith(b));
    if (base === undefined) {
      respond(res, { status: 404 });
      return;
    }
    const segments = url.pathname
      .slice(base.length)
      .split('/')
      .map((s) => decodeURIComponent(s));
    if (segments.at(-1) === '' && segments.length > 1) segments.pop();
    const method = req.method ?? 'GET';
    route(deps, { method, segments, query: url.searchParams, body: () => readText(req) })
      .then(async (reply) => {
        if (method !== 'GET' && method !== 'HEAD') await deps.synced();
        return reply;
      })
      .then(
        (reply) => {
          respond(res, reply);
        },
        (error: unknown) => {
          respond(res, {
            status: 500,
            body: { Message: 'Something went wrong while processing your request', ExceptionMessage: String(error) },
          });
        },
      );
  };
}

function outcomeStatus(outcome: 'accepted' | 'notFound' | 'gone'): number {
  return outcome === 'accepted' ? 202 : outcome === 'notFound' ? 404 : 410;
}

function filterInstances(engine: OrchestrationEngine, query: URLSearchParams): InstanceView[] {
  const statuses = (query.get('runtimeStatus') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s): s is RuntimeStatus => runtimeStatuses.some((r) => r === s));
  const from = query.get('createdTimeFrom');
  const to = query.get('createdTimeTo');
  const prefix = query.get('instanceIdPrefix');
  return engine
    .ids()
    .map((id) => engine.view(id))
    .filter((v): v is InstanceView => v !== undefined)
    .filter((v) => statuses.length === 0 || statuses.includes(v.runtimeStatus))
    .filter((v) => from === null || v.createdTime.getTime() >= Date.parse(from))
    .filter((v) => to === null || v.createdTime.getTime() <= Date.parse(to))
    .filter((v) => prefix === null || v.instanceId.startsWith(prefix));
}
