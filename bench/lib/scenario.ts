import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InvocationEvent } from '@convoy/functions-host';
import { planRun, runPrefix } from '../../test/harness/baskets';
import { getOrders, publishBaskets, type OrderView } from '../../test/harness/convoyClient';
import { describeIdle, hostJsonWith, type SessionSettings } from './hostJson';
import {
  bySession,
  deliveryOrderViolations,
  sameSessionOverlaps,
  sequenceOfMessageId,
} from '../../test/harness/invocations';
import { cpuDelta, cpuSnapshot, type CpuSnapshot } from './cpu';
import { eventCost, type EventCost } from './eventCost';
import { tallyDelta, type HttpTally } from '../../test/harness/httpTally';
import { publishDirect, publishRunDirect } from '../../test/harness/publishDirect';
import { startStack, type Stack } from '../../test/harness/stack';
import { mean, percentile } from './stats';

/**
 * One benchmark row: a fresh stack (emulator, Azurite, host) with the swept host.json, S baskets
 * of E events each published in one burst through POST /api/sessions, drained by the convoy.
 * E counts every event processOrderEvent applies: E-3 ItemAdded, BasketCheckedOut, PaymentMade,
 * and the InventoryUpdated that the fulfillment orchestration publishes.
 */

export const consumer = 'processOrderEvent';
const appRoots = { null: join(__dirname, 'nullApp'), 'null-save': join(__dirname, 'nullSaveApp') } as const;
/** POST /api/sessions takes at most 1000 baskets per request. */
const basketsPerRequest = 1000;

/**
 * app: the built convoy (dist/): Azurite reads/writes, durable fulfillment, InventoryUpdated.
 * null: bench/lib/nullApp, the same trigger with an empty handler, fed E messages per basket
 * directly: only the host loop, the emulator and the SDK remain next to the injected cost.
 * null-save: bench/lib/nullSaveApp, the null app plus one order save per event through the app's
 * TableOrderStore (same client, same Azurite), fed like null: the floor of one storage write per event.
 */
export type AppMode = 'app' | 'null' | 'null-save';

/** The modes without the convoy's HTTP API: fed from the bench process, checked by their invocations. */
export const isBaseline = (mode: AppMode): mode is 'null' | 'null-save' => mode !== 'app';

export interface ScenarioParams extends SessionSettings {
  mode: AppMode;
  baskets: number;
  eventsPerBasket: number;
  handlerCostMs: number;
  timeoutMs: number;
  verbose?: boolean;
  /**
   * Convoy mode: publish through POST /api/sessions (the host then also pays for producing). Default:
   * from the bench process, the same path as the null row, so host CPU compares consumers.
   */
  publishThroughApp?: boolean;
  /** Null mode: bursts of the same shape drained first, so the measured one meets a warm process. */
  warmupBursts?: number;
}

export interface ScenarioResult {
  params: ScenarioParams;
  drainMs: number;
  publishMs: number;
  /** max(longest basket chain E×P, total work S×E×P / maxConcurrentSessions). */
  lowerBoundMs: number;
  ratio: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Baskets whose applied log is not exactly 1..E, plus deliveries out of sequence, plus same-session overlaps. */
  orderingViolations: number;
  /** Where the time goes (see docs/tuning.md). */
  breakdown: {
    invocations: number;
    handlerMeanMs: number;
    /** Mean time between one call of a session ending and the next starting (settle + receive). */
    inSessionGapMeanMs: number;
    /** Sessions accepted (per basket: 1 = never released mid-basket). */
    sessionsPerBasket: number;
    /** Σ call durations / (maxConcurrentSessions × drain). */
    slotUtilization: number;
    /** CPU milliseconds per consumer call, by process, over publish + drain. */
    cpuPerCall: CpuSnapshot;
    /** Storage and durable client requests per applied event, counted on the host's wire (eventCost.ts). */
    perEvent: EventCost;
  };
}

export function lowerBound(
  p: Pick<ScenarioParams, 'baskets' | 'eventsPerBasket' | 'handlerCostMs' | 'maxConcurrentSessions'>,
): number {
  const chain = p.eventsPerBasket * p.handlerCostMs;
  const work = (p.baskets * p.eventsPerBasket * p.handlerCostMs) / p.maxConcurrentSessions;
  return Math.max(chain, work);
}

/** Added to the idle timeout after a warm-up burst (the processor bench waits the same). */
export const warmupSettleMs = 500;

export async function runScenario(params: ScenarioParams): Promise<ScenarioResult> {
  if (params.eventsPerBasket < 4)
    throw new Error('eventsPerBasket must be at least 4 (1 item, checkout, payment, inventory).');
  const stack = await startStack({
    hostJson: hostJsonWith(params),
    handlerCostMs: params.handlerCostMs,
    verbose: params.verbose ?? false,
    ...(isBaseline(params.mode) ? { appRoot: appRoots[params.mode] } : {}),
  });
  try {
    const { host } = stack;
    const run = planRun(runPrefix('bench'), params.baskets, params.eventsPerBasket - 3);
    const ids = [...run.published.keys()];
    // Warm-up bursts (null mode): same shape, other session ids, drained before the measured one.
    for (let w = 0; w < (params.warmupBursts ?? 0); w++) {
      if (params.mode !== 'null') throw new Error('warmupBursts is for the null workload only.');
      const warm = planRun(runPrefix('warm'), params.baskets, params.eventsPerBasket - 3);
      const warmDrain = watchDrain(host, warm.published, params.eventsPerBasket);
      await publishDirect(stack.emulator.connectionString, [...warm.published.keys()], params.eventsPerBasket);
      await warmDrain.drained;
      // Let the warm-up sessions idle-close, so the measured burst starts with every slot free.
      await sleep((params.sessionIdleTimeoutMs ?? 0) + warmupSettleMs);
    }
    const drain = watchDrain(host, run.published, params.eventsPerBasket);
    const acceptedBefore = (await host.serviceBusStats()).sessionsAccepted;
    const httpBefore = await host.httpTally();
    const cpuBefore = cpuSnapshot(host.pid);
    const startedAt = performance.timeOrigin + performance.now();
    if (isBaseline(params.mode)) await publishDirect(stack.emulator.connectionString, ids, params.eventsPerBasket);
    else if (params.publishThroughApp === true) {
      for (let i = 0; i < ids.length; i += basketsPerRequest) {
        await publishBaskets(host.url, {
          ...run.request,
          baskets: run.request.baskets.slice(i, i + basketsPerRequest),
        });
      }
    } else await publishRunDirect(stack.emulator.connectionString, run);
    const publishMs = performance.timeOrigin + performance.now() - startedAt;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>(
      (resolve) =>
        (timer = setTimeout(() => {
          resolve('timeout');
        }, params.timeoutMs)),
    );
    const outcome = await Promise.race([drain.drained, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      throw new Error(
        `${String(ids.length - drain.finished.size)} of ${String(ids.length)} baskets not drained within ${String(params.timeoutMs)} ms (${describeIdle(params.sessionIdleTimeoutMs)}, ${String(params.maxConcurrentSessions)} sessions)`,
      );
    }
    const drainMs = drain.lastEnd() - startedAt;
    const cpu = cpuDelta(cpuBefore, cpuSnapshot(host.pid));
    const http = tallyDelta(httpBefore, await host.httpTally());

    const events = host.events.filter((e) => e.sessionId !== undefined && run.published.has(e.sessionId));
    const lowerBoundMs = lowerBound(params);
    const orders = params.mode === 'app' ? await getOrders(host.url, ids) : undefined;
    const logViolations =
      orders === undefined
        ? handledLogViolations(events, params.eventsPerBasket)
        : countViolations(orders, params.eventsPerBasket);
    return {
      params,
      drainMs,
      publishMs,
      lowerBoundMs,
      ratio: drainMs / lowerBoundMs,
      ...(orders === undefined ? invocationLatencies(events, startedAt) : latencies(orders)),
      orderingViolations:
        logViolations + deliveryOrderViolations(events, consumer).length + sameSessionOverlaps(events, consumer).length,
      breakdown: breakdown(
        events,
        params.maxConcurrentSessions,
        drainMs,
        ((await host.serviceBusStats()).sessionsAccepted - acceptedBefore) / ids.length,
        cpu,
        http,
      ),
    };
  } finally {
    await stack.stop();
  }
}

/**
 * Watches a burst: resolves once every basket's last event (sequence E) succeeded; lastEnd() is when
 * the last of them ended (the drain's end). Stops listening once drained.
 */
function watchDrain(
  host: Stack['host'],
  published: ReadonlyMap<string, number>,
  eventsPerBasket: number,
): { drained: Promise<void>; finished: ReadonlySet<string>; lastEnd: () => number } {
  const finished = new Set<string>();
  let lastEnd = 0;
  const drained = new Promise<void>((resolve) => {
    const off = host.onInvocation((event) => {
      if (event.functionName !== consumer || event.outcome !== 'succeeded' || event.sessionId === undefined) return;
      if (sequenceOfMessageId(event.messageId) !== eventsPerBasket || !published.has(event.sessionId)) return;
      finished.add(event.sessionId);
      lastEnd = Math.max(lastEnd, event.endedAt);
      if (finished.size === published.size) {
        off();
        resolve();
      }
    });
  });
  return { drained, finished, lastEnd: () => lastEnd };
}

function countViolations(orders: ReadonlyMap<string, OrderView | undefined>, events: number): number {
  let violations = 0;
  for (const [basketId, order] of orders) {
    const applied = order?.applied.map((a) => a.eventId).join(',');
    const expected = Array.from({ length: events }, (_, k) => `${basketId}:${String(k + 1)}`).join(',');
    if (applied !== expected) violations++;
  }
  return violations;
}

/** Without a store, the handled log is the invocations: each basket's successful calls must be 1..E. */
function handledLogViolations(events: readonly InvocationEvent[], eventsPerBasket: number): number {
  let violations = 0;
  for (const list of bySession(events, consumer).values()) {
    const handled = list.filter((e) => e.outcome === 'succeeded').map((e) => sequenceOfMessageId(e.messageId));
    if (handled.join(',') !== Array.from({ length: eventsPerBasket }, (_, k) => k + 1).join(',')) violations++;
  }
  return violations;
}

/** publish → handled for the null app: every message was sent in the burst that began at `publishedAt`. */
function invocationLatencies(
  events: readonly InvocationEvent[],
  publishedAt: number,
): { latencyP50Ms: number; latencyP99Ms: number } {
  const values = events
    .filter((e) => e.functionName === consumer && e.outcome === 'succeeded')
    .map((e) => e.endedAt - publishedAt);
  return { latencyP50Ms: percentile(values, 50), latencyP99Ms: percentile(values, 99) };
}

/** publish → applied, from the app's own clock: occurredAt is stamped at publish, appliedAt at apply. */
function latencies(orders: ReadonlyMap<string, OrderView | undefined>): { latencyP50Ms: number; latencyP99Ms: number } {
  const values: number[] = [];
  for (const order of orders.values()) {
    for (const applied of order?.applied ?? [])
      values.push(Date.parse(applied.appliedAt) - Date.parse(applied.occurredAt));
  }
  return { latencyP50Ms: percentile(values, 50), latencyP99Ms: percentile(values, 99) };
}

function breakdown(
  events: readonly InvocationEvent[],
  slots: number,
  drainMs: number,
  sessionsPerBasket: number,
  cpu: CpuSnapshot,
  http: HttpTally,
): ScenarioResult['breakdown'] {
  const calls = events.filter((e) => e.functionName === consumer);
  const gaps: number[] = [];
  for (const list of bySession(calls, consumer).values()) {
    for (let i = 1; i < list.length; i++) {
      const previous = list[i - 1];
      const current = list[i];
      // Only back-to-back calls: a gap longer than a second is a session released and re-accepted later.
      if (previous !== undefined && current !== undefined && current.startedAt - previous.endedAt < 1_000)
        gaps.push(current.startedAt - previous.endedAt);
    }
  }
  const busy = calls.reduce((sum, e) => sum + e.durationMs, 0);
  return {
    invocations: calls.length,
    handlerMeanMs: mean(calls.map((e) => e.durationMs)),
    inSessionGapMeanMs: mean(gaps),
    sessionsPerBasket,
    slotUtilization: busy / (slots * drainMs),
    cpuPerCall: {
      hostMs: cpu.hostMs / calls.length,
      emulatorMs: cpu.emulatorMs / calls.length,
      azuriteMs: cpu.azuriteMs / calls.length,
    },
    perEvent: eventCost(http, calls.filter((e) => e.outcome === 'succeeded').length),
  };
}
