import { randomUUID } from 'node:crypto';
import {
  parseOrchestratorFailure,
  parseOrchestratorResult,
  type OrchestratorAction,
  type OrchestratorResult,
} from './actions';
import type { DurableClock } from './clock';
import type { SideEffects } from './effects';
import { Episode } from './episode';
import { errorText, retryDelayMs } from './failures';
import { EventType, type FailureDetails, type NewHistoryEvent } from './history';
import {
  executionStarted,
  isActive,
  type InboxItem,
  type Instance,
  type InstanceStore,
  type RetryFollow,
} from './instances';
import type { Limiter, WorkTracker } from './work';
import type { InvokeFunction } from '../worker/contract';

/**
 * The replay schema fields as the extension sends them (OrchestrationTriggerAttributeBindingProvider):
 * `upperSchemaVersion` V2 for old SDKs, `upperSchemaVersionNew` V3, which durable-functions 3.x uses.
 * V4 (entity locks) is not offered, so `context.df.lock` fails with the library's own message.
 */
const upperSchemaVersion = 1;
const upperSchemaVersionNew = 2;

interface Failure {
  message: string;
  details: FailureDetails | undefined;
}

/** What one replay of the orchestrator gave: its result, or why it failed. */
interface Outcome {
  result?: OrchestratorResult;
  failure?: Failure;
}

type Action = OrchestratorAction;
type Scheduled<K extends Action['kind']> = Extract<Action, { kind: K }>;

export interface ReplayPorts {
  invoke: InvokeFunction;
  work: WorkTracker;
  clock: DurableClock;
  log: (line: string) => void;
  orchestratorLimiter: Limiter;
  closed(): boolean;
}

/**
 * The episode loop: takes an instance's new events, replays the orchestrator function against its
 * history, records the actions it returns in the history and leaves their side effects to run once
 * the episode commits.
 */
export class ReplayLoop {
  constructor(
    private readonly store: InstanceStore,
    private readonly effects: SideEffects,
    private readonly ports: ReplayPorts,
  ) {}

  deliver(instance: Instance, executionId: string, item: InboxItem): void {
    // Results for an execution that ended (completed, failed, terminated, continued as new) are dropped, as in DTFx.
    if (instance.executionId !== executionId || !isActive(instance.status)) return;
    instance.inbox.push(item);
    this.store.touch(instance);
    this.schedule(instance);
  }

  schedule(instance: Instance): void {
    if (this.ports.closed() || instance.episodeRunning || instance.inbox.length === 0 || !isActive(instance.status))
      return;
    instance.episodeRunning = true;
    const done = this.ports.work.begin();
    // Deferred so events arriving in the same tick join one episode, as they would in a DTFx work item.
    setImmediate(() => {
      this.runEpisode(instance)
        .catch((error: unknown) => {
          this.ports.log(`orchestration ${instance.instanceId}: internal error ${errorText(error).message}`);
        })
        .finally(() => {
          instance.episodeRunning = false;
          instance.inFlight = [];
          this.store.touch(instance);
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
    const episode = new Episode(new Date(this.ports.clock.now()), sequence);
    episode.append({ EventType: EventType.OrchestratorStarted });
    instance.inFlight = this.takeBatch(instance);
    for (const item of instance.inFlight) {
      episode.append(item.event);
      if (item.follow !== undefined) this.applyFollow(instance, executionId, episode, item.follow);
    }
    if (instance.status === 'Pending') instance.status = 'Running';
    const outcome = await this.replay(instance, episode);
    // Terminated (or restarted) while the orchestrator ran: this episode's outcome no longer applies.
    if (instance.executionId !== executionId || !isActive(instance.status)) return;
    instance.sequence = sequence;
    this.commit(instance, executionId, episode, outcome);
  }

  /** Runs the orchestrator over the history plus this episode's events. */
  private async replay(instance: Instance, episode: Episode): Promise<Outcome> {
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
    try {
      const raw = await this.ports.orchestratorLimiter.run(() =>
        // The extension hands the context over as a JSON string (OrchestrationContextToString).
        this.ports.invoke(instance.name, { string: JSON.stringify(payload) }),
      );
      return { result: parseOrchestratorResult(raw) };
    } catch (error) {
      const { message } = parseOrchestratorFailure(error);
      const details = {
        ErrorType: 'Error',
        ErrorMessage: message,
        StackTrace: errorText(error).stack,
        IsNonRetriable: false,
      };
      return { failure: { message, details } };
    }
  }

  /** Applies the new actions, then ends the episode: failed, continued as new, completed, or waiting. */
  private commit(instance: Instance, executionId: string, episode: Episode, outcome: Outcome): void {
    const { result } = outcome;
    let failure = outcome.failure;
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
    action: Exclude<Action, { kind: 'continueAsNew' } | { kind: 'unsupported' }>,
  ): void {
    switch (action.kind) {
      case 'callActivity':
        this.scheduleActivity(instance, executionId, episode, action);
        return;
      case 'createTimer':
        this.createTimer(instance, executionId, episode, action);
        return;
      case 'waitForExternalEvent':
        // Nothing to schedule: raised events are appended whenever they arrive and the library matches them by name.
        return;
      case 'callEntity':
      case 'signalEntity':
        this.sendToEntity(instance, executionId, episode, action);
        return;
      case 'callSubOrchestrator':
        this.createSubOrchestration(instance, executionId, episode, action);
        return;
      default: {
        const unreachable: never = action;
        return unreachable;
      }
    }
  }

  private scheduleActivity(
    instance: Instance,
    executionId: string,
    episode: Episode,
    action: Scheduled<'callActivity'>,
  ): void {
    const id = episode.allocate();
    const input = JSON.stringify(action.input ?? null);
    episode.append({ EventType: EventType.TaskScheduled, Name: action.functionName, Version: '', Input: input }, id);
    const retry = action.retry === undefined ? undefined : { policy: action.retry, attempt: 1 };
    episode.effects.push(() => {
      this.effects.runActivity(instance, executionId, id, action.functionName, action.input, retry);
    });
  }

  private createTimer(
    instance: Instance,
    executionId: string,
    episode: Episode,
    action: Scheduled<'createTimer'>,
  ): void {
    const id = episode.allocate();
    episode.append({ EventType: EventType.TimerCreated, FireAt: action.fireAt.toISOString() }, id);
    episode.effects.push(() => {
      this.effects.armTimer(instance, executionId, id, action.fireAt, undefined);
    });
  }

  private sendToEntity(
    instance: Instance,
    executionId: string,
    episode: Episode,
    action: Scheduled<'callEntity' | 'signalEntity'>,
  ): void {
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
    const caller = signal ? undefined : { instanceId: instance.instanceId, executionId };
    episode.effects.push(() => {
      this.effects.sendToEntity({ entity: action.entity, requestId, operation: action.operation, input, caller });
    });
  }

  private createSubOrchestration(
    instance: Instance,
    executionId: string,
    episode: Episode,
    action: Scheduled<'callSubOrchestrator'>,
  ): void {
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
      this.effects.startChild(instance, executionId, id, action.functionName, childId, input);
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
        this.effects.armTimer(instance, executionId, timerId, fireAt, { ...follow, step: 'timerFired' });
      });
      return;
    }
    if (follow.attempt >= follow.policy.maxNumberOfAttempts) return;
    const taskId = episode.allocate();
    const input = JSON.stringify(follow.input ?? null);
    episode.append({ EventType: EventType.TaskScheduled, Name: follow.name, Version: '', Input: input }, taskId);
    episode.effects.push(() => {
      const retry = { policy: follow.policy, attempt: follow.attempt + 1 };
      this.effects.runActivity(instance, executionId, taskId, follow.name, follow.input, retry);
    });
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
    this.effects.cancelTimers(instance);
    this.ports.log(`orchestration ${instance.name} (${instance.instanceId}) Completed`);
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
    this.effects.cancelTimers(instance);
    this.ports.log(`orchestration ${instance.name} (${instance.instanceId}) Failed: ${message}`);
    this.notifyParent(instance, {
      EventType: EventType.SubOrchestrationInstanceFailed,
      TaskScheduledId: instance.parent?.taskScheduledId ?? -1,
      Reason: output,
      Details: '',
    });
  }

  private notifyParent(instance: Instance, event: NewHistoryEvent): void {
    if (instance.parent === undefined) return;
    const parent = this.store.get(instance.parent.instanceId);
    if (parent !== undefined) this.deliver(parent, instance.parent.executionId, { event, isolate: false });
  }

  private continueAsNew(instance: Instance, input: unknown): void {
    this.effects.cancelTimers(instance);
    instance.executionId = randomUUID();
    instance.input = input === undefined ? null : JSON.stringify(input);
    instance.history = [];
    instance.inbox = [{ event: executionStarted(instance), isolate: false }];
    instance.sequence = { next: 0 };
    instance.actionsApplied = 0;
    instance.activities.clear();
    instance.lastUpdatedTime = new Date(this.ports.clock.now());
    this.ports.log(`orchestration ${instance.name} (${instance.instanceId}) continued as new`);
    // schedule() runs again when the current episode's finally clause releases the instance.
  }
}
