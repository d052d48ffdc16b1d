import { randomUUID } from 'node:crypto';
import type { InvokeFunction } from '../worker/contract';
import {
  parseOrchestratorFailure,
  parseOrchestratorResult,
  type OrchestratorAction,
  type OrchestratorResult,
  type RetryPolicy,
} from './actions';
import type { FunctionCatalog } from './catalog';
import type { DurableClock } from './clock';
import type { EntityResponse, EntityScheduler } from './entities';
import { Episode } from './episode';
import { errorText, failureDetailsOf, retryDelayMs } from './failures';
import { EventType, type FailureDetails, type HistoryEvent, type NewHistoryEvent } from './history';
import type { Limiter, WorkTracker } from './work';

export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated';
export const runtimeStatuses: readonly RuntimeStatus[] = ['Pending', 'Running', 'Completed', 'Failed', 'Terminated'];

interface InboxItem {
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
interface RetryFollow {
  step: 'failed' | 'timerFired';
  name: string;
  input: unknown;
  policy: RetryPolicy;
  attempt: number;
}

interface PendingActivity {
  name: string;
  input: unknown;
  retry: { policy: RetryPolicy; attempt: number } | undefined;
}

interface PendingTimer {
  fireAt: string;
  follow: RetryFollow | undefined;
}

/** An instance as saved in the dataDir journal: plain JSON, pending work as data. */
export interface SavedInstance {
  instanceId: string;
  name: string;
  executionId: string;
  status: RuntimeStatus;
  input: string | null;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  history: HistoryEvent[];
  inbox: InboxItem[];
  sequence: number;
  actionsApplied: number;
  parent: Instance['parent'];
  activities: [number, PendingActivity][];
  timers: [number, PendingTimer][];
}

interface Instance {
  instanceId: string;
  name: string;
  executionId: string;
  status: RuntimeStatus;
  /** JSON text of the input (null when started without one). */
  input: string | null;
  output: unknown;
  customStatus: unknown;
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
  parent: { name: string; instanceId: string; executionId: string; taskScheduledId: number } | undefined;
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

export type StartResult = { ok: true; instanceId: string } | { ok: false; status: 400 | 409; message: string };

export interface OrchestrationEngineOptions {
  catalog: FunctionCatalog;
  invoke: InvokeFunction;
  work: WorkTracker;
  clock: DurableClock;
  log: (line: string) => void;
  activityLimiter: Limiter;
  orchestratorLimiter: Limiter;
  /** Called whenever an instance changes (dataDir: it gets saved on the next flush). */
  persist?: (instanceId: string) => void;
}

/**
 * The replay schema fields as the extension sends them (OrchestrationTriggerAttributeBindingProvider):
 * `upperSchemaVersion` V2 for old SDKs, `upperSchemaVersionNew` V3, which durable-functions 3.x uses.
 * V4 (entity locks) is not offered, so `context.df.lock` fails with the library's own message.
 */
const upperSchemaVersion = 1;
const upperSchemaVersionNew = 2;

function isActive(status: RuntimeStatus): boolean {
  return status === 'Pending' || status === 'Running';
}

/**
 * Orchestration instances: history, inbox of new events, and the episode loop that replays the
 * orchestrator function against its history and applies the actions it returns.
 */
export class OrchestrationEngine {
  private readonly instances = new Map<string, Instance>();
  private closed = false;
  private entities: EntityScheduler | undefined;

  constructor(private readonly options: OrchestrationEngineOptions) {}

  attachEntities(entities: EntityScheduler): void {
    this.entities = entities;
  }

  start(name: string, instanceId: string | undefined, input: string | null, parent?: Instance['parent']): StartResult {
    const functionName = this.options.catalog.find('orchestrationTrigger', name);
    if (functionName === undefined) {
      return {
        ok: false,
        status: 400,
        message: `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      };
    }
    const id = instanceId ?? randomUUID().replaceAll('-', '');
    const existing = this.instances.get(id);
    // The extension's default (overridableExistingInstanceStates = NonRunningStates): an id may be reused
    // once its instance has finished; while it is Pending or Running, starting it again is a conflict.
    if (existing !== undefined && isActive(existing.status)) {
      return {
        ok: false,
        status: 409,
        message: `An Orchestration instance with the status ${existing.status} already exists.`,
      };
    }
    if (existing !== undefined) this.cancelTimers(existing);
    const now = new Date(this.options.clock.now());
    const executionId = randomUUID();
    const instance: Instance = {
      instanceId: id,
      name: functionName,
      executionId,
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
    instance.inbox.push({ event: this.executionStarted(instance), isolate: false });
    this.instances.set(id, instance);
    this.touch(instance);
    this.schedule(instance);
    return { ok: true, instanceId: id };
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

  ids(): string[] {
    return [...this.instances.keys()];
  }

  countByStatus(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const i of this.instances.values()) counts[i.status] = (counts[i.status] ?? 0) + 1;
    return counts;
  }

  raiseEvent(instanceId: string, name: string, input: string | null): 'accepted' | 'notFound' | 'gone' {
    const instance = this.instances.get(instanceId);
    if (instance === undefined) return 'notFound';
    if (!isActive(instance.status)) return 'gone';
    this.deliver(instance, instance.executionId, {
      event: { EventType: EventType.EventRaised, Name: name, Input: input },
      isolate: false,
    });
    return 'accepted';
  }

  terminate(instanceId: string, reason: string): 'accepted' | 'notFound' | 'gone' {
    const instance = this.instances.get(instanceId);
    if (instance === undefined) return 'notFound';
    if (!isActive(instance.status)) return 'gone';
    const now = new Date(this.options.clock.now());
    const episode = new Episode(now, instance.sequence);
    episode.append({ EventType: EventType.ExecutionTerminated, Input: JSON.stringify(reason) });
    instance.history.push(...episode.events);
    instance.inbox = [];
    instance.inFlight = [];
    instance.activities.clear();
    instance.status = 'Terminated';
    instance.output = reason;
    instance.lastUpdatedTime = now;
    this.cancelTimers(instance);
    this.touch(instance);
    this.options.log(`orchestration ${instance.name} (${instanceId}) terminated: ${reason}`);
    return 'accepted';
  }

  purge(instanceId: string): 'purged' | 'notFound' | 'notTerminal' {
    const instance = this.instances.get(instanceId);
    if (instance === undefined) return 'notFound';
    if (isActive(instance.status)) return 'notTerminal';
    this.instances.delete(instanceId);
    this.options.persist?.(instanceId);
    return 'purged';
  }

  deliverEntityResponse(
    caller: { instanceId: string; executionId: string },
    requestId: string,
    response: EntityResponse,
  ): void {
    const instance = this.instances.get(caller.instanceId);
    if (instance === undefined) return;
    this.deliver(instance, caller.executionId, {
      event: { EventType: EventType.EventRaised, Name: requestId, Input: JSON.stringify(response) },
      isolate: false,
    });
  }

  close(): void {
    this.closed = true;
    // Handles only: the saved timers stay pending for the next start.
    for (const instance of this.instances.values()) for (const timer of [...instance.timers.values()]) timer.cancel();
  }

  serialize(instanceId: string): SavedInstance | undefined {
    const i = this.instances.get(instanceId);
    if (i === undefined) return undefined;
    return {
      instanceId: i.instanceId,
      name: i.name,
      executionId: i.executionId,
      status: i.status,
      input: i.input,
      output: i.output,
      customStatus: i.customStatus,
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

  /** Loads saved instances, then resumes what was pending: activities re-run, timers re-armed, inboxes replayed. */
  restore(saved: readonly SavedInstance[]): void {
    for (const s of saved) {
      this.instances.set(s.instanceId, {
        instanceId: s.instanceId,
        name: s.name,
        executionId: s.executionId,
        status: s.status,
        input: s.input,
        output: s.output,
        customStatus: s.customStatus,
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
    for (const s of saved) {
      const instance = this.instances.get(s.instanceId);
      if (instance === undefined || !isActive(instance.status)) continue;
      for (const [taskId, a] of s.activities) {
        this.runActivity(instance, instance.executionId, taskId, a.name, a.input, a.retry ?? undefined);
      }
      for (const [timerId, t] of s.timers) {
        this.armTimer(instance, instance.executionId, timerId, new Date(t.fireAt), t.follow ?? undefined);
      }
      this.schedule(instance);
    }
  }

  private touch(instance: Instance): void {
    this.options.persist?.(instance.instanceId);
  }

  private executionStarted(instance: Instance): NewHistoryEvent {
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

  private deliver(instance: Instance, executionId: string, item: InboxItem): void {
    // Results for an execution that ended (completed, failed, terminated, continued as new) are dropped, as in DTFx.
    if (instance.executionId !== executionId || !isActive(instance.status)) return;
    instance.inbox.push(item);
    this.touch(instance);
    this.schedule(instance);
  }

  private schedule(instance: Instance): void {
    if (this.closed || instance.episodeRunning || instance.inbox.length === 0 || !isActive(instance.status)) return;
    instance.episodeRunning = true;
    const done = this.options.work.begin();
    // Deferred so events arriving in the same tick join one episode, as they would in a DTFx work item.
    setImmediate(() => {
      this.runEpisode(instance)
        .catch((error: unknown) => {
          this.options.log(`orchestration ${instance.instanceId}: internal error ${errorText(error).message}`);
        })
        .finally(() => {
          instance.episodeRunning = false;
          instance.inFlight = [];
          this.touch(instance);
          done();
          this.schedule(instance);
        });
    });
  }

  private takeBatch(instance: Instance): InboxItem[] {
    const first = instance.inbox[0];
    if (first?.isolate === true) return instance.inbox.splice(0, 1);
    const end = instance.inbox.findIndex((item) => item.isolate);
    return instance.inbox.splice(0, end < 0 ? instance.inbox.length : end);
  }

  private async runEpisode(instance: Instance): Promise<void> {
    const executionId = instance.executionId;
    // Sequence numbers go to a copy, kept only when the episode commits: a save taken meanwhile holds the old counter.
    const sequence = { next: instance.sequence.next };
    const episode = new Episode(new Date(this.options.clock.now()), sequence);
    episode.append({ EventType: EventType.OrchestratorStarted });
    instance.inFlight = this.takeBatch(instance);
    for (const item of instance.inFlight) {
      episode.append(item.event);
      if (item.follow !== undefined) this.applyFollow(instance, executionId, episode, item.follow);
    }
    if (instance.status === 'Pending') instance.status = 'Running';
    const input: unknown = instance.input === null ? undefined : JSON.parse(instance.input);
    const payload = {
      history: [...instance.history.map((e) => ({ ...e, IsPlayed: true })), ...episode.events],
      input,
      instanceId: instance.instanceId,
      isReplaying: instance.history.length > 0,
      parentInstanceId: instance.parent?.instanceId,
      upperSchemaVersion,
      upperSchemaVersionNew,
      maximumShortTimerDuration: '6.00:00:00',
      longRunningTimerIntervalDuration: '3.00:00:00',
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    };
    let result: OrchestratorResult | undefined;
    let failure: { message: string; details: FailureDetails | undefined } | undefined;
    try {
      const raw = await this.options.orchestratorLimiter.run(() =>
        // The extension hands the context over as a JSON string (OrchestrationContextToString).
        this.options.invoke(instance.name, { string: JSON.stringify(payload) }),
      );
      result = parseOrchestratorResult(raw);
    } catch (error) {
      const { message } = parseOrchestratorFailure(error);
      failure = {
        message,
        details: {
          ErrorType: 'Error',
          ErrorMessage: message,
          StackTrace: errorText(error).stack,
          IsNonRetriable: false,
        },
      };
    }
    // Terminated (or restarted) while the orchestrator ran: this episode's outcome no longer applies.
    if (instance.executionId !== executionId || !isActive(instance.status)) return;

    instance.sequence = sequence;
    instance.customStatus = result?.customStatus ?? instance.customStatus;
    let continueAsNew: { input: unknown } | undefined;
    if (result !== undefined) {
      const fresh = result.actions.slice(instance.actionsApplied);
      instance.actionsApplied = result.actions.length;
      for (const action of fresh) {
        if (action.kind === 'continueAsNew') continueAsNew = { input: action.input };
        else if (action.kind === 'unsupported') {
          failure ??= { message: `${action.what} is not supported by the local durable backend.`, details: undefined };
        } else this.applyAction(instance, executionId, episode, action);
      }
    }
    episode.append({ EventType: EventType.OrchestratorCompleted });
    if (failure !== undefined) {
      this.fail(instance, episode, failure.message, failure.details);
      return;
    }
    if (result?.isDone === true && continueAsNew !== undefined) {
      instance.history.push(...episode.events);
      this.runEffects(episode);
      this.continueAsNew(instance, continueAsNew.input);
      return;
    }
    if (result?.isDone === true) this.complete(instance, episode, result.output);
    else {
      instance.history.push(...episode.events);
      instance.lastUpdatedTime = episode.now;
    }
    this.runEffects(episode);
  }

  private runEffects(episode: Episode): void {
    for (const effect of episode.effects) effect();
  }

  private applyAction(
    instance: Instance,
    executionId: string,
    episode: Episode,
    action: Exclude<OrchestratorAction, { kind: 'continueAsNew' } | { kind: 'unsupported' }>,
  ): void {
    switch (action.kind) {
      case 'callActivity': {
        const id = episode.allocate();
        const input = JSON.stringify(action.input ?? null);
        episode.append(
          { EventType: EventType.TaskScheduled, Name: action.functionName, Version: '', Input: input },
          id,
        );
        const retry = action.retry === undefined ? undefined : { policy: action.retry, attempt: 1 };
        episode.effects.push(() => {
          this.runActivity(instance, executionId, id, action.functionName, action.input, retry);
        });
        return;
      }
      case 'createTimer': {
        const id = episode.allocate();
        const fireAt = action.fireAt.toISOString();
        episode.append({ EventType: EventType.TimerCreated, FireAt: fireAt }, id);
        episode.effects.push(() => {
          this.armTimer(instance, executionId, id, action.fireAt, undefined);
        });
        return;
      }
      case 'waitForExternalEvent':
        // Nothing to schedule: raised events are appended whenever they arrive and the library matches them by name.
        return;
      case 'callEntity':
      case 'signalEntity': {
        const id = episode.allocate();
        const requestId = randomUUID();
        const input = action.input === undefined ? undefined : JSON.stringify(action.input);
        const signal = action.kind === 'signalEntity';
        const request = {
          id: requestId,
          op: action.operation,
          signal,
          input,
          parent: instance.instanceId,
          timestamp: episode.now.toISOString(),
        };
        episode.append(
          { EventType: EventType.EventSent, InstanceId: action.entity, Name: 'op', Input: JSON.stringify(request) },
          id,
        );
        episode.effects.push(() => {
          const caller = signal ? undefined : { instanceId: instance.instanceId, executionId };
          const op = { requestId, operation: action.operation, input, caller };
          const error =
            this.entities === undefined ? 'entities are not available' : this.entities.enqueue(action.entity, op);
          if (error === undefined) return;
          if (caller === undefined) this.options.log(`signal to ${action.entity} dropped: ${error}`);
          else this.deliverEntityResponse(caller, requestId, { result: JSON.stringify(error), exceptionType: 'Error' });
        });
        return;
      }
      case 'callSubOrchestrator': {
        const id = episode.allocate();
        const childId = action.instanceId ?? `${instance.instanceId}:${id}`;
        const input = action.input === undefined ? null : JSON.stringify(action.input);
        episode.append(
          {
            EventType: EventType.SubOrchestrationInstanceCreated,
            Name: action.functionName,
            Version: '',
            InstanceId: childId,
            Input: input,
          },
          id,
        );
        episode.effects.push(() => {
          const started = this.start(action.functionName, childId, input, {
            name: instance.name,
            instanceId: instance.instanceId,
            executionId,
            taskScheduledId: id,
          });
          if (started.ok) return;
          this.deliver(instance, executionId, {
            event: {
              EventType: EventType.SubOrchestrationInstanceFailed,
              TaskScheduledId: id,
              Reason: started.message,
              Details: '',
            },
            isolate: false,
          });
        });
        return;
      }
      default: {
        const unreachable: never = action;
        return unreachable;
      }
    }
  }

  private runActivity(
    instance: Instance,
    executionId: string,
    taskId: number,
    name: string,
    input: unknown,
    retry: { policy: RetryPolicy; attempt: number } | undefined,
  ): void {
    const functionName = this.options.catalog.find('activityTrigger', name);
    instance.activities.set(taskId, { name, input, retry });
    this.touch(instance);
    const done = this.options.work.begin();
    const run =
      functionName === undefined
        ? Promise.reject(
            new Error(`The function '${name}' doesn't exist, is disabled, or is not an activity function.`),
          )
        : this.options.activityLimiter.run(() =>
            this.options.invoke(functionName, { json: JSON.stringify(input ?? null) }),
          );
    const settle = (): void => {
      // A later execution (continue-as-new) may reuse the task id: only this execution's entry goes.
      if (instance.executionId === executionId) instance.activities.delete(taskId);
    };
    run
      .then(
        (value) => {
          settle();
          this.deliver(instance, executionId, {
            event: {
              EventType: EventType.TaskCompleted,
              TaskScheduledId: taskId,
              Result: JSON.stringify(value ?? null),
            },
            isolate: false,
          });
        },
        (error: unknown) => {
          settle();
          const details = failureDetailsOf(error);
          this.options.log(`activity ${name} (${instance.instanceId}#${taskId}) failed: ${details.ErrorMessage}`);
          this.deliver(instance, executionId, {
            event: {
              EventType: EventType.TaskFailed,
              TaskScheduledId: taskId,
              Reason: `Activity function '${name}' failed: ${details.ErrorMessage}`,
              Details: details.StackTrace ?? '',
              FailureDetails: details,
            },
            isolate: retry !== undefined,
            follow:
              retry === undefined
                ? undefined
                : { step: 'failed', name, input, policy: retry.policy, attempt: retry.attempt },
          });
        },
      )
      .finally(() => {
        this.touch(instance);
        done();
      });
  }

  /**
   * The library's RetryableTask waits on a timer after every failed attempt (the last one too, as
   * DTFx's RetryInterceptor creates it) and then either gives up or waits on a rescheduled task:
   * both get the next sequence numbers.
   */
  private applyFollow(instance: Instance, executionId: string, episode: Episode, follow: RetryFollow): void {
    if (follow.step === 'failed') {
      const timerId = episode.allocate();
      const fireAt = new Date(episode.now.getTime() + retryDelayMs(follow.policy, follow.attempt));
      episode.append({ EventType: EventType.TimerCreated, FireAt: fireAt.toISOString() }, timerId);
      episode.effects.push(() => {
        this.armTimer(instance, executionId, timerId, fireAt, { ...follow, step: 'timerFired' });
      });
      return;
    }
    if (follow.attempt >= follow.policy.maxNumberOfAttempts) return;
    const taskId = episode.allocate();
    episode.append(
      {
        EventType: EventType.TaskScheduled,
        Name: follow.name,
        Version: '',
        Input: JSON.stringify(follow.input ?? null),
      },
      taskId,
    );
    episode.effects.push(() => {
      this.runActivity(instance, executionId, taskId, follow.name, follow.input, {
        policy: follow.policy,
        attempt: follow.attempt + 1,
      });
    });
  }

  private armTimer(
    instance: Instance,
    executionId: string,
    timerId: number,
    fireAt: Date,
    follow: RetryFollow | undefined,
  ): void {
    // A timer created in the episode that ended the execution would only keep the backend busy.
    if (this.closed || instance.executionId !== executionId || !isActive(instance.status)) return;
    instance.timerData.set(timerId, { fireAt: fireAt.toISOString(), follow });
    this.touch(instance);
    const done = this.options.work.begin();
    let current: { cancel(): void } | undefined;
    const entry = {
      cancel: () => {
        current?.cancel();
        if (instance.timers.get(timerId) === entry) instance.timers.delete(timerId);
        done();
      },
    };
    const arm = (): void => {
      current = this.options.clock.setTimer(fireAt.getTime() - this.options.clock.now(), () => {
        // A timer longer than Node's maximum wakes early: arm it again for the rest.
        if (this.options.clock.now() < fireAt.getTime()) {
          arm();
          return;
        }
        if (instance.timers.get(timerId) === entry) instance.timers.delete(timerId);
        if (instance.executionId === executionId) instance.timerData.delete(timerId);
        done();
        this.touch(instance);
        this.deliver(instance, executionId, {
          event: { EventType: EventType.TimerFired, TimerId: timerId, FireAt: fireAt.toISOString() },
          isolate: follow !== undefined,
          follow,
        });
      });
    };
    instance.timers.set(timerId, entry);
    arm();
  }

  private cancelTimers(instance: Instance): void {
    for (const timer of [...instance.timers.values()]) timer.cancel();
    instance.timerData.clear();
  }

  private complete(instance: Instance, episode: Episode, output: unknown): void {
    episode.append({
      EventType: EventType.ExecutionCompleted,
      OrchestrationStatus: 'Completed',
      Result: JSON.stringify(output ?? null),
    });
    instance.history.push(...episode.events);
    instance.status = 'Completed';
    instance.output = output ?? null;
    instance.lastUpdatedTime = episode.now;
    this.cancelTimers(instance);
    this.options.log(`orchestration ${instance.name} (${instance.instanceId}) Completed`);
    this.notifyParent(instance, {
      EventType: EventType.SubOrchestrationInstanceCompleted,
      TaskScheduledId: instance.parent?.taskScheduledId ?? -1,
      Result: JSON.stringify(output ?? null),
    });
  }

  private fail(instance: Instance, episode: Episode, message: string, details: FailureDetails | undefined): void {
    const output = `Orchestrator function '${instance.name}' failed: ${message}`;
    episode.append({
      EventType: EventType.ExecutionCompleted,
      OrchestrationStatus: 'Failed',
      Result: output,
      ...(details === undefined ? {} : { FailureDetails: details }),
    });
    instance.history.push(...episode.events);
    instance.status = 'Failed';
    instance.output = output;
    instance.lastUpdatedTime = episode.now;
    this.cancelTimers(instance);
    this.options.log(`orchestration ${instance.name} (${instance.instanceId}) Failed: ${message}`);
    this.notifyParent(instance, {
      EventType: EventType.SubOrchestrationInstanceFailed,
      TaskScheduledId: instance.parent?.taskScheduledId ?? -1,
      Reason: output,
      Details: '',
    });
  }

  private notifyParent(instance: Instance, event: NewHistoryEvent): void {
    if (instance.parent === undefined) return;
    const parent = this.instances.get(instance.parent.instanceId);
    if (parent !== undefined) this.deliver(parent, instance.parent.executionId, { event, isolate: false });
  }

  private continueAsNew(instance: Instance, input: unknown): void {
    this.cancelTimers(instance);
    instance.executionId = randomUUID();
    instance.input = input === undefined ? null : JSON.stringify(input);
    instance.history = [];
    instance.inbox = [{ event: this.executionStarted(instance), isolate: false }];
    instance.sequence = { next: 0 };
    instance.actionsApplied = 0;
    instance.activities.clear();
    instance.lastUpdatedTime = new Date(this.options.clock.now());
    this.options.log(`orchestration ${instance.name} (${instance.instanceId}) continued as new`);
    // schedule() runs again when the current episode's finally clause releases the instance.
  }
}
