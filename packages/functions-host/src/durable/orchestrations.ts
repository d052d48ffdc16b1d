import { randomUUID } from 'node:crypto';
import { SideEffects, type ActivityRuntime, type StartResult } from './effects';
import type { EntityResponse, EntityScheduler } from './entities';
import { Episode } from './episode';
import { EventType } from './history';
import {
  InstanceStore,
  isActive,
  newInstance,
  type InstanceView,
  type ParentRef,
  type SavedInstance,
} from './instances';
import { ReplayLoop } from './replay';
import type { Limiter } from './work';

export interface OrchestrationEngineOptions extends ActivityRuntime {
  orchestratorLimiter: Limiter;
  /** Called whenever an instance changes (dataDir: it gets saved on the next flush). */
  persist?: (instanceId: string) => void;
}

/**
 * Orchestrations as the durable HTTP API and the entities see them: start, raise, terminate,
 * purge, save and restore. The instances live in an InstanceStore, episodes run in the ReplayLoop,
 * and what an episode starts (activities, timers, entity messages, sub-orchestrations) in SideEffects.
 */
export class OrchestrationEngine {
  private readonly store: InstanceStore;
  private readonly effects: SideEffects;
  private readonly loop: ReplayLoop;
  private closed = false;
  private entities: EntityScheduler | undefined;

  constructor(private readonly options: OrchestrationEngineOptions) {
    const closed = (): boolean => this.closed;
    const store = new InstanceStore(options.persist);
    const effects = new SideEffects({
      ...options,
      touch: (instance) => {
        store.touch(instance);
      },
      deliver: (instance, executionId, item) => {
        this.loop.deliver(instance, executionId, item);
      },
      start: (name, instanceId, input, parent) => this.start(name, instanceId, input, parent),
      find: (instanceId) => store.get(instanceId),
      entities: () => this.entities,
      closed,
    });
    this.store = store;
    this.effects = effects;
    this.loop = new ReplayLoop(store, effects, { ...options, closed });
  }

  attachEntities(entities: EntityScheduler): void {
    this.entities = entities;
  }

  start(name: string, instanceId: string | undefined, input: string | null, parent?: ParentRef): StartResult {
    const functionName = this.options.catalog.find('orchestrationTrigger', name);
    if (functionName === undefined) {
      return {
        ok: false,
        status: 400,
        message: `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      };
    }
    const id = instanceId ?? randomUUID().replaceAll('-', '');
    const existing = this.store.get(id);
    // The extension's default (overridableExistingInstanceStates = NonRunningStates): an id may be reused
    // once its instance has finished; while it is Pending or Running, starting it again is a conflict.
    if (existing !== undefined && isActive(existing.status)) {
      return {
        ok: false,
        status: 409,
        message: `An Orchestration instance with the status ${existing.status} already exists.`,
      };
    }
    if (existing !== undefined) this.effects.cancelTimers(existing);
    const instance = newInstance(id, functionName, input, parent, new Date(this.options.clock.now()));
    this.store.add(instance);
    this.loop.schedule(instance);
    return { ok: true, instanceId: id };
  }

  view(instanceId: string): InstanceView | undefined {
    return this.store.view(instanceId);
  }

  ids(): string[] {
    return this.store.ids();
  }

  countByStatus(): Record<string, number> {
    return this.store.countByStatus();
  }

  raiseEvent(instanceId: string, name: string, input: string | null): 'accepted' | 'notFound' | 'gone' {
    const instance = this.store.get(instanceId);
    if (instance === undefined) return 'notFound';
    if (!isActive(instance.status)) return 'gone';
    this.loop.deliver(instance, instance.executionId, {
      event: { EventType: EventType.EventRaised, Name: name, Input: input },
      isolate: false,
    });
    return 'accepted';
  }

  terminate(instanceId: string, reason: string): 'accepted' | 'notFound' | 'gone' {
    const instance = this.store.get(instanceId);
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
    this.effects.cancelTimers(instance);
    this.store.touch(instance);
    this.options.log(`orchestration ${instance.name} (${instanceId}) terminated: ${reason}`);
    return 'accepted';
  }

  purge(instanceId: string): 'purged' | 'notFound' | 'notTerminal' {
    const instance = this.store.get(instanceId);
    if (instance === undefined) return 'notFound';
    if (isActive(instance.status)) return 'notTerminal';
    this.store.delete(instanceId);
    return 'purged';
  }

  deliverEntityResponse(
    caller: { instanceId: string; executionId: string },
    requestId: string,
    response: EntityResponse,
  ): void {
    this.effects.deliverEntityResponse(caller, requestId, response);
  }

  close(): void {
    this.closed = true;
    // Handles only: the saved timers stay pending for the next start.
    for (const instance of this.store.all()) for (const timer of [...instance.timers.values()]) timer.cancel();
  }

  serialize(instanceId: string): SavedInstance | undefined {
    return this.store.serialize(instanceId);
  }

  /** Loads saved instances, then resumes what was pending: activities re-run, timers re-armed, inboxes replayed. */
  restore(saved: readonly SavedInstance[]): void {
    for (const s of saved) this.store.load(s);
    for (const s of saved) {
      const instance = this.store.get(s.instanceId);
      if (instance === undefined || !isActive(instance.status)) continue;
      for (const [taskId, a] of s.activities) {
        this.effects.runActivity(instance, instance.executionId, taskId, a.name, a.input, a.retry ?? undefined);
      }
      for (const [timerId, t] of s.timers) {
        this.effects.armTimer(instance, instance.executionId, timerId, new Date(t.fireAt), t.follow ?? undefined);
      }
      this.loop.schedule(instance);
    }
  }
}
