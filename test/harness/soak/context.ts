import { eventIdFor } from '../../../src/domain/events';
import type { SoakPlan } from './plan';
import type { SoakStack } from './stack';
import { consumer, type FaultKind, type SoakOptions } from './types';

/** What every phase of one soak run shares: its options, its plan, its stack and what it has seen. */
export interface SoakRun {
  readonly options: SoakOptions;
  readonly plan: SoakPlan;
  readonly stack: SoakStack;
  readonly startedAt: number;
  /** The whole run, faults and recovery included, ends by then. */
  readonly deadline: number;
  readonly completion: BasketCompletion;
  readonly injected: Record<FaultKind, number>;
  /** What went wrong, for the failure report (the first 10 are kept). */
  readonly problems: string[];
}

export function startRun(options: SoakOptions, plan: SoakPlan, stack: SoakStack, startedAt: number): SoakRun {
  return {
    options,
    plan,
    stack,
    startedAt,
    deadline: startedAt + options.timeoutMs,
    completion: new BasketCompletion(stack, plan),
    injected: {
      hostKill: 0,
      hostStop: 0,
      storageOutage: 0,
      emulatorRestart: 0,
      handlerException: 0,
      duplicatePublish: 0,
      poison: 0,
    },
    problems: [],
  };
}

export function noteProblem(run: SoakRun, problem: string): void {
  if (run.problems.length < 10) run.problems.push(problem);
}

export const secondsSinceStart = (run: SoakRun): string =>
  `${String(Math.round((Date.now() - run.startedAt) / 1000))} s`;

/** Baskets seen complete: the consumer call of their last event (the InventoryUpdated) succeeded. */
export class BasketCompletion {
  private readonly done = new Set<string>();
  private readonly lastEventOf: Map<string, string>;
  private seen = 0;

  constructor(
    private readonly stack: SoakStack,
    plan: SoakPlan,
  ) {
    this.lastEventOf = new Map(plan.baskets.map((b) => [eventIdFor(b.basketId, b.lastSequence), b.basketId]));
  }

  /** Reads the invocations reported since the last call. */
  refresh(): this {
    for (const event of this.stack.events.slice(this.seen)) {
      if (event.functionName !== consumer || event.outcome !== 'succeeded' || event.messageId === undefined) continue;
      const basketId = this.lastEventOf.get(event.messageId);
      if (basketId !== undefined) this.done.add(basketId);
    }
    this.seen = this.stack.events.length;
    return this;
  }

  has(basketId: string): boolean {
    return this.done.has(basketId);
  }

  get size(): number {
    return this.done.size;
  }
}
