import { randomUUID } from 'node:crypto';
import type { RetryPolicy } from './actions';
import { EventType, type HistoryEvent, type NewHistoryEvent } from './history';

export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated';
export const runtimeStatuses: readonly RuntimeStatus[] = ['Pending', 'Running', 'Completed', 'Failed', 'Terminated'];

export interface InboxItem {
  event: NewHistoryEvent;
  /**
   * Delivered alone in its episode. The library allocates a sequence number while it processes a
   * retry's TaskFailed/TimerFired; with nothing else new in the episode, its counter and ours agree.
   */
  isolate: boolean;
  /** Retry bookkeeping applied when the event is appended, before the orchestrator sees it (data, so it can be saved). */
  follow?: RetryFollow;
}

/** After a failed attempt: arm the retry timer. After that timer fires: schedule the next attempt (unless exhausted). */
export interface RetryFollow {
  step: 'failed' | 'timerFired';
  name: string;
  input: unknown;
  policy: RetryPolicy;
  attempt: number;
}

export type ActivityRetry = { policy: RetryPolicy; attempt: number } | undefined;

interface PendingActivity {
  name: string;
  input: unknown;
  retry: ActivityRetry;
}

interface PendingTimer {
  fireAt: string;
  follow: RetryFollow | undefined;
}

export interface ParentRef {
  name: string;
  instanceId: string;
  executionId: string;
  taskScheduledId: number;
}

/** What an instance is, the same in memory and in the journal. */
interface InstanceFacts {
  instanceId: string;
  name: string;
  executionId: string;
  status: RuntimeStatus;
  /** JSON text of the input (null when started without one). */
  input: string | null;
  output: unknown;
  customStatus: unknown;
}

/** An instance as saved in the dataDir journal: plain JSON, pending work as data. */
export interface SavedInstance extends InstanceFacts {
  createdTime: string;
  lastUpdatedTime: string;
  history: HistoryEvent[];
  inbox: InboxItem[];
  sequence: number;
  actionsApplied: number;
  parent: ParentRef | undefined;
  activities: [number, PendingActivity][];
  timers: [number, PendingTimer][];
}

export interface Instance extends InstanceFacts {
  createdTime: Date;
  lastUpdatedTime: Date;
  history: HistoryEvent[];
  inbox: InboxItem[];
  /** Taken by the running episode; saved ahead of the inbox until the episode commits. */
  inFlight: InboxItem[];
  episodeRunning: boolean;
  sequence: { next: number };
  /**
   * How many of the orchestrator's actions were already applied. The library re-emits every action
   * of the execution on each replay (the extension matches them against the history), so only the
   * ones past this count are new.
   */
  actionsApplied: number;
  /** Armed timer handles, by timer id. */
  timers: Map<number, { cancel(): void }>;
  /** What is pending, as data (saved): activities started, timers armed. */
  activities: Map<number, PendingActivity>;
  timerData: Map<number, PendingTimer>;
  parent: ParentRef | undefined;
}

export interface InstanceView {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: string | null;
  output: unknown;
  customStatus: unknown;
  createdTime: Date;
  lastUpdatedTime: Date;
  history: readonly HistoryEvent[];
}

export function isActive(status: RuntimeStatus): boolean {
  return status === 'Pending' || status === 'Running';
}

/** The first event of an execution, as DTFx writes it (the parent's task id for a sub-orchestration). */
export function executionStarted(instance: Instance): NewHistoryEvent {
  return {
    EventType: EventType.ExecutionStarted,
    Name: instance.name,
    Version: '',
    Input: instance.input,
    OrchestrationInstance: { InstanceId: instance.instanceId, ExecutionId: instance.executionId },
    ParentInstance:
      instance.parent === undefined
        ? null
        : {
            Name: instance.parent.name,
            OrchestrationInstance: { InstanceId: instance.parent.instanceId },
            TaskScheduleId: instance.parent.taskScheduledId,
          },
  };
}

/** A new Pending instance whose inbox holds its ExecutionStarted. */
export function newInstance(
  instanceId: string,
  name: string,
  input: string | null,
  parent: ParentRef | undefined,
  now: Date,
): Instance {
  const instance: Instance = {
    instanceId,
    name,
    executionId: randomUUID(),
    status: 'Pending',
    input,
    output: null,
    customStatus: null,
    createdTime: now,
    lastUpdatedTime: now,
    history: [],
    inbox: [],
    inFlight: [],
    episodeRunning: false,
    sequence: { next: 0 },
    actionsApplied: 0,
    timers: new Map(),
    activities: new Map(),
    timerData: new Map(),
    parent,
  };
  instance.inbox.push({ event: executionStarted(instance), isolate: false });
  return instance;
}

/** The fields an instance saves and loads unchanged. */
function keptAsIs(i: InstanceFacts): InstanceFacts {
  return {
    instanceId: i.instanceId,
    name: i.name,
    executionId: i.executionId,
    status: i.status,
    input: i.input,
    output: i.output,
    customStatus: i.customStatus,
  };
}

/**
 * The orchestration instances, by id: what they hold, how they are shown, saved and loaded again.
 * `persist` hears of every change (dataDir: the instance is saved on the next flush).
 */
export class InstanceStore {
  private readonly instances = new Map<string, Instance>();

  constructor(private readonly persist: ((instanceId: string) => void) | undefined) {}

  get(instanceId: string): Instance | undefined {
    return this.instances.get(instanceId);
  }

  add(instance: Instance): void {
    this.instances.set(instance.instanceId, instance);
    this.touch(instance);
  }

  delete(instanceId: string): void {
    this.instances.delete(instanceId);
    this.persist?.(instanceId);
  }

  touch(instance: Instance): void {
    this.persist?.(instance.instanceId);
  }

  all(): IterableIterator<Instance> {
    return this.instances.values();
  }

  ids(): string[] {
    return [...this.instances.keys()];
  }

  countByStatus(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const i of this.instances.values()) counts[i.status] = (counts[i.status] ?? 0) + 1;
    return counts;
  }

  view(instanceId: string): InstanceView | undefined {
    const i = this.instances.get(instanceId);
    if (i === undefined) return undefined;
    return {
      name: i.name,
      instanceId: i.instanceId,
      runtimeStatus: i.status,
      input: i.input,
      output: i.output,
      customStatus: i.customStatus,
      createdTime: i.createdTime,
      lastUpdatedTime: i.lastUpdatedTime,
      history: i.history,
    };
  }

  serialize(instanceId: string): SavedInstance | undefined {
    const i = this.instances.get(instanceId);
    if (i === undefined) return undefined;
    return {
      ...keptAsIs(i),
      createdTime: i.createdTime.toISOString(),
      lastUpdatedTime: i.lastUpdatedTime.toISOString(),
      history: i.history,
      inbox: [...i.inFlight, ...i.inbox],
      sequence: i.sequence.next,
      actionsApplied: i.actionsApplied,
      parent: i.parent,
      activities: [...i.activities],
      timers: [...i.timerData],
    };
  }

  /** Loads a saved instance as it was; what was pending (activities, timers) is the caller's to resume. */
  load(s: SavedInstance): void {
    this.instances.set(s.instanceId, {
      ...keptAsIs(s),
      createdTime: new Date(s.createdTime),
      lastUpdatedTime: new Date(s.lastUpdatedTime),
      history: s.history,
      inbox: s.inbox,
      inFlight: [],
      episodeRunning: false,
      sequence: { next: s.sequence },
      actionsApplied: s.actionsApplied,
      timers: new Map(),
      activities: new Map(),
      timerData: new Map(),
      parent: s.parent ?? undefined,
    });
  }
}
