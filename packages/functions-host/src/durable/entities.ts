import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { InvokeFunction } from '../worker/contract';
import type { FunctionCatalog } from './catalog';
import type { DurableClock } from './clock';
import type { WorkTracker } from './work';

/** One operation for an entity: a call from an orchestration (answered) or a signal (not answered). */
export interface EntityOperation {
  requestId: string;
  operation: string;
  /** JSON text, as the library's entity context parses it (`getInput`). */
  input: string | undefined;
  /** Set for calls: where the response goes. */
  caller: { instanceId: string; executionId: string } | undefined;
}

/** What the orchestration sees as the EventRaised input (the library's ResponseMessage). */
export interface EntityResponse {
  result: string | undefined;
  exceptionType: string | undefined;
}

interface EntityRecord {
  /** The key in the entity map (and in the dataDir journal). */
  schedulerId: string;
  name: string;
  key: string;
  exists: boolean;
  /** JSON text of the state, as the library's entity context reads and writes it. */
  state: string | undefined;
  queue: { op: EntityOperation; done: () => void }[];
  /** The batch the entity function is running; saved ahead of the queue until its outcome is applied. */
  inFlight: EntityOperation[];
  running: boolean;
  lastOperationTime: Date | undefined;
}

/** The library's EntityState (lib/src/entities), returned by every entity batch. */
const entityStateSchema = z.object({
  entityExists: z.boolean(),
  entityState: z.string().optional(),
  results: z.array(
    z.object({ isError: z.boolean(), duration: z.number().optional(), result: z.string().optional() }).nullable(),
  ),
  signals: z.array(
    z.object({
      target: z.object({ name: z.string(), key: z.string() }),
      name: z.string(),
      input: z.string().optional(),
    }),
  ),
});

export interface EntitySchedulerOptions {
  catalog: FunctionCatalog;
  invoke: InvokeFunction;
  work: WorkTracker;
  clock: DurableClock;
  log: (line: string) => void;
  respond: (caller: { instanceId: string; executionId: string }, requestId: string, response: EntityResponse) => void;
  maxBatchSize: number;
  /** Called whenever an entity changes (dataDir: it gets saved on the next flush). */
  persist?: (schedulerId: string) => void;
}

/** An entity as saved in the dataDir journal. */
export interface SavedEntity {
  schedulerId: string;
  name: string;
  key: string;
  exists: boolean;
  state?: string;
  lastOperationTime?: string;
  /** Queued operations, the running batch first. */
  ops: EntityOperation[];
}

/** `@name@key` with the name lower-cased: the extension's entity scheduler id (EntityId.getSchedulerIdFromEntityId). */
export function schedulerIdOf(name: string, key: string): string {
  return `@${name.toLowerCase()}@${key}`;
}

function parseSchedulerId(id: string): { name: string; key: string } | undefined {
  const at = id.indexOf('@', 1);
  if (!id.startsWith('@') || at < 0) return undefined;
  return { name: id.slice(1, at), key: id.slice(at + 1) };
}

/**
 * Entities: one serialized operation queue per entity id. A batch takes whatever is queued, runs it
 * through the entity function in one invocation (as the extension does), then persists state,
 * answers callers and forwards the signals the operations sent.
 */
export class EntityScheduler {
  private readonly entities = new Map<string, EntityRecord>();
  private closed = false;

  constructor(private readonly options: EntitySchedulerOptions) {}

  /** Queues an operation; returns an error text when no entity function of that name exists. */
  enqueue(schedulerId: string, op: EntityOperation): string | undefined {
    const id = parseSchedulerId(schedulerId);
    if (id === undefined) return `'${schedulerId}' is not an entity id (@name@key).`;
    const functionName = this.options.catalog.find('entityTrigger', id.name);
    if (functionName === undefined) return `The function '${id.name}' doesn't exist or is not an entity function.`;
    let record = this.entities.get(schedulerId);
    if (record === undefined) {
      record = {
        schedulerId,
        name: id.name,
        key: id.key,
        exists: false,
        state: undefined,
        queue: [],
        inFlight: [],
        running: false,
        lastOperationTime: undefined,
      };
      this.entities.set(schedulerId, record);
    }
    record.queue.push({ op, done: this.options.work.begin() });
    this.options.persist?.(schedulerId);
    this.kick(functionName, record);
    return undefined;
  }

  serialize(schedulerId: string): SavedEntity | undefined {
    const r = this.entities.get(schedulerId);
    if (r === undefined) return undefined;
    return {
      schedulerId: r.schedulerId,
      name: r.name,
      key: r.key,
      exists: r.exists,
      ...(r.state === undefined ? {} : { state: r.state }),
      ...(r.lastOperationTime === undefined ? {} : { lastOperationTime: r.lastOperationTime.toISOString() }),
      ops: [...r.inFlight, ...r.queue.map((q) => q.op)],
    };
  }

  /** Loads saved entities and runs their queued operations again (a batch cut by a crash was never applied). */
  restore(saved: readonly SavedEntity[]): void {
    for (const s of saved) {
      const schedulerId = s.schedulerId;
      const record: EntityRecord = {
        schedulerId,
        name: s.name,
        key: s.key,
        exists: s.exists,
        state: s.state,
        queue: [],
        inFlight: [],
        running: false,
        lastOperationTime: s.lastOperationTime === undefined ? undefined : new Date(s.lastOperationTime),
      };
      this.entities.set(schedulerId, record);
      if (s.ops.length === 0) continue;
      const functionName = this.options.catalog.find('entityTrigger', s.name);
      if (functionName === undefined) {
        this.options.log(
          `entity ${schedulerId}: ${s.ops.length} saved operation(s) not run: no entity function '${s.name}' in this app`,
        );
        continue;
      }
      record.queue = s.ops.map((op) => ({ op, done: this.options.work.begin() }));
      this.kick(functionName, record);
    }
  }

  signal(name: string, key: string, operation: string, input: string | undefined): string | undefined {
    return this.enqueue(schedulerIdOf(name, key), { requestId: randomUUID(), operation, input, caller: undefined });
  }

  /** The state as JSON text, or undefined when the entity does not exist (never written, or deleted). */
  read(name: string, key: string): { exists: boolean; state: string | undefined } {
    const record = this.entities.get(schedulerIdOf(name, key));
    return { exists: record?.exists ?? false, state: record?.state };
  }

  list(
    name: string | undefined,
  ): { name: string; key: string; state: string | undefined; lastOperationTime: Date | undefined }[] {
    return [...this.entities.values()]
      .filter((r) => r.exists && (name === undefined || r.name === name.toLowerCase()))
      .map((r) => ({ name: r.name, key: r.key, state: r.state, lastOperationTime: r.lastOperationTime }));
  }

  count(): number {
    return [...this.entities.values()].filter((r) => r.exists).length;
  }

  /** Stops starting batches; queued operations are dropped (nothing is persisted) and stop counting as work. */
  close(): void {
    this.closed = true;
    for (const record of this.entities.values()) {
      for (const item of record.queue.splice(0)) item.done();
    }
  }

  private kick(functionName: string, record: EntityRecord): void {
    if (record.running || record.queue.length === 0 || this.closed) return;
    record.running = true;
    const batch = record.queue.splice(0, this.options.maxBatchSize);
    record.inFlight = batch.map((item) => item.op);
    void this.runBatch(functionName, record, batch).finally(() => {
      record.running = false;
      record.inFlight = [];
      this.options.persist?.(record.schedulerId);
      for (const item of batch) item.done();
      this.kick(functionName, record);
    });
  }

  private async runBatch(functionName: string, record: EntityRecord, batch: EntityRecord['queue']): Promise<void> {
    // The extension's EntityContextToString: operation batch plus the stored state, handed over as a JSON string.
    const payload = {
      self: { name: record.name, key: record.key },
      exists: record.exists,
      state: record.state ?? null,
      batch: batch.map(({ op }) => ({
        name: op.operation,
        input: op.input ?? null,
        isSignal: op.caller === undefined,
        id: op.requestId,
      })),
    };
    let outcome: z.infer<typeof entityStateSchema>;
    try {
      const raw = await this.options.invoke(functionName, { string: JSON.stringify(payload) });
      outcome = entityStateSchema.parse(raw);
    } catch (error) {
      // The whole batch failed (the function could not run): state is unchanged, every caller gets the error.
      const message = error instanceof Error ? error.message : String(error);
      this.options.log(`entity ${functionName}(${record.key}): batch of ${batch.length} failed: ${message}`);
      for (const { op } of batch) {
        if (op.caller !== undefined) {
          this.options.respond(op.caller, op.requestId, { result: JSON.stringify(message), exceptionType: 'Error' });
        }
      }
      return;
    }
    record.exists = outcome.entityExists;
    record.state = outcome.entityExists ? outcome.entityState : undefined;
    record.lastOperationTime = new Date(this.options.clock.now());
    batch.forEach(({ op }, i) => {
      if (op.caller === undefined) return;
      const result = outcome.results[i];
      this.options.respond(op.caller, op.requestId, {
        result: result?.result,
        exceptionType: result?.isError === true ? 'Error' : undefined,
      });
    });
    for (const signal of outcome.signals) {
      const error = this.signal(
        signal.target.name,
        signal.target.key,
        signal.name,
        signal.input === '' ? undefined : signal.input,
      );
      if (error !== undefined) this.options.log(`entity ${functionName}(${record.key}): signal dropped: ${error}`);
    }
  }
}
