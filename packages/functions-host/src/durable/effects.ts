import type { FunctionCatalog } from './catalog';
import type { DurableClock } from './clock';
import type { EntityResponse, EntityScheduler } from './entities';
import { failureDetailsOf } from './failures';
import { EventType } from './history';
import {
  isActive,
  type ActivityRetry,
  type InboxItem,
  type Instance,
  type ParentRef,
  type RetryFollow,
} from './instances';
import type { Limiter, WorkTracker } from './work';
import type { InvokeFunction } from '../worker/contract';

export type StartResult = { ok: true; instanceId: string } | { ok: false; status: 400 | 409; message: string };

/** The runtime's ports an activity runs on (the engine's options carry them too). */
export interface ActivityRuntime {
  catalog: FunctionCatalog;
  invoke: InvokeFunction;
  work: WorkTracker;
  clock: DurableClock;
  log: (line: string) => void;
  activityLimiter: Limiter;
}

/** What the side effects need: the runtime's ports and the way back into the orchestrations. */
export interface SideEffectPorts extends ActivityRuntime {
  /** The instance changed (dataDir: save it). */
  touch(instance: Instance): void;
  /** Hands an event to an instance's execution (dropped if that execution has ended). */
  deliver(instance: Instance, executionId: string, item: InboxItem): void;
  /** Starts a sub-orchestration. */
  start(name: string, instanceId: string, input: string | null, parent: ParentRef): StartResult;
  find(instanceId: string): Instance | undefined;
  entities(): EntityScheduler | undefined;
  closed(): boolean;
}

export interface EntityMessage {
  entity: string;
  requestId: string;
  operation: string;
  input: string | undefined;
  /** Absent for a signal: nobody waits for the answer. */
  caller: { instanceId: string; executionId: string } | undefined;
}

/**
 * The side effects of a committed episode (and of a restart): activities run, timers armed,
 * entity operations queued, sub-orchestrations started. Each ends by delivering an event back.
 */
export class SideEffects {
  constructor(private readonly ports: SideEffectPorts) {}

  runActivity(
    instance: Instance,
    executionId: string,
    taskId: number,
    name: string,
    input: unknown,
    retry: ActivityRetry,
  ): void {
    const { ports } = this;
    const functionName = ports.catalog.find('activityTrigger', name);
    instance.activities.set(taskId, { name, input, retry });
    ports.touch(instance);
    const done = ports.work.begin();
    const run =
      functionName === undefined
        ? Promise.reject(
            new Error(`The function '${name}' doesn't exist, is disabled, or is not an activity function.`),
          )
        : ports.activityLimiter.run(() => ports.invoke(functionName, { json: JSON.stringify(input ?? null) }));
    const settle = (): void => {
      // A later execution (continue-as-new) may reuse the task id: only this execution's entry goes.
      if (instance.executionId === executionId) instance.activities.delete(taskId);
    };
    run
      .then(
        (value) => {
          settle();
          ports.deliver(instance, executionId, {
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
          ports.deliver(instance, executionId, this.activityFailed(instance, taskId, name, input, retry, error));
        },
      )
      .finally(() => {
        ports.touch(instance);
        done();
      });
  }

  private activityFailed(
    instance: Instance,
    taskId: number,
    name: string,
    input: unknown,
    retry: ActivityRetry,
    error: unknown,
  ): InboxItem {
    const details = failureDetailsOf(error);
    this.ports.log(`activity ${name} (${instance.instanceId}#${taskId}) failed: ${details.ErrorMessage}`);
    return {
      event: {
        EventType: EventType.TaskFailed,
        TaskScheduledId: taskId,
        Reason: `Activity function '${name}' failed: ${details.ErrorMessage}`,
        Details: details.StackTrace ?? '',
        FailureDetails: details,
      },
      isolate: retry !== undefined,
      follow:
        retry === undefined ? undefined : { step: 'failed', name, input, policy: retry.policy, attempt: retry.attempt },
    };
  }

  armTimer(
    instance: Instance,
    executionId: string,
    timerId: number,
    fireAt: Date,
    follow: RetryFollow | undefined,
  ): void {
    const { ports } = this;
    // A timer created in the episode that ended the execution would only keep the backend busy.
    if (ports.closed() || instance.executionId !== executionId || !isActive(instance.status)) return;
    instance.timerData.set(timerId, { fireAt: fireAt.toISOString(), follow });
    ports.touch(instance);
    const done = ports.work.begin();
    let current: { cancel(): void } | undefined;
    const entry = {
      cancel: () => {
        current?.cancel();
        if (instance.timers.get(timerId) === entry) instance.timers.delete(timerId);
        done();
      },
    };
    const arm = (): void => {
      current = ports.clock.setTimer(fireAt.getTime() - ports.clock.now(), () => {
        // A timer longer than Node's maximum wakes early: arm it again for the rest.
        if (ports.clock.now() < fireAt.getTime()) {
          arm();
          return;
        }
        if (instance.timers.get(timerId) === entry) instance.timers.delete(timerId);
        if (instance.executionId === executionId) instance.timerData.delete(timerId);
        done();
        ports.touch(instance);
        ports.deliver(instance, executionId, {
          event: { EventType: EventType.TimerFired, TimerId: timerId, FireAt: fireAt.toISOString() },
          isolate: follow !== undefined,
          follow,
        });
      });
    };
    instance.timers.set(timerId, entry);
    arm();
  }

  cancelTimers(instance: Instance): void {
    for (const timer of [...instance.timers.values()]) timer.cancel();
    instance.timerData.clear();
  }

  /** Queues an entity operation; if the entity cannot take it, a caller gets the error as its answer. */
  sendToEntity(message: EntityMessage): void {
    const { entity, requestId, operation, input, caller } = message;
    const entities = this.ports.entities();
    const error =
      entities === undefined
        ? 'entities are not available'
        : entities.enqueue(entity, { requestId, operation, input, caller });
    if (error === undefined) return;
    if (caller === undefined) this.ports.log(`signal to ${entity} dropped: ${error}`);
    else this.deliverEntityResponse(caller, requestId, { result: JSON.stringify(error), exceptionType: 'Error' });
  }

  deliverEntityResponse(
    caller: { instanceId: string; executionId: string },
    requestId: string,
    response: EntityResponse,
  ): void {
    const instance = this.ports.find(caller.instanceId);
    if (instance === undefined) return;
    this.ports.deliver(instance, caller.executionId, {
      event: { EventType: EventType.EventRaised, Name: requestId, Input: JSON.stringify(response) },
      isolate: false,
    });
  }

  /** Starts a sub-orchestration; if it cannot start, the parent sees it fail. */
  startChild(
    instance: Instance,
    executionId: string,
    taskId: number,
    name: string,
    childId: string,
    input: string | null,
  ): void {
    const started = this.ports.start(name, childId, input, {
      name: instance.name,
      instanceId: instance.instanceId,
      executionId,
      taskScheduledId: taskId,
    });
    if (started.ok) return;
    this.ports.deliver(instance, executionId, {
      event: {
        EventType: EventType.SubOrchestrationInstanceFailed,
        TaskScheduledId: taskId,
        Reason: started.message,
        Details: '',
      },
      isolate: false,
    });
  }
}
