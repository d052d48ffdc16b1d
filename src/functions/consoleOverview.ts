import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import type {
  BacklogCounts,
  ConsoleMetricsStore,
  InFlightIndex,
  QueueBacklog,
  StatusCounts,
} from '../adapters/consolePorts';
import { getConfig } from '../config';
import { consoleMetrics, inFlightIndex, queueBacklog, quarantineCount } from '../consoleDependencies';
import { now } from '../dependencies';
import {
  backlogHistory,
  backlogPosition,
  backlogSampleDue,
  firstSlotOfWindow,
  liveFigures,
} from './console/liveFigures';
import { errorText } from '../errors';

/**
 * GET /api/console/overview — the convoy at a glance: events applied per second and publish → applied
 * latency (from every instance's flushed counts), baskets by status (a counter row, not a scan),
 * queue backlog with its trend, quarantine count, calls held right now, stuck baskets. A part that
 * cannot be read is null with a warning; the rest is still answered.
 */

export const consoleOverviewName = 'consoleOverview';
/** The quarantine and the stuck candidates are counted up to here (then reported as at least this). */
export const countCap = 5_000;
/** A watchdog tick older than this is not trusted for the stuck count; the index is counted instead. */
const watchdogFreshMs = 3 * 60_000;

export interface ConsoleOverviewDeps {
  metrics: () => ConsoleMetricsStore;
  backlog: () => QueueBacklog;
  inFlightIndex: () => InFlightIndex;
  quarantineCount: (cap: number) => Promise<{ count: number; capped: boolean }>;
  now: () => Date;
  stuckThresholdMs: () => number;
}

export type ConsoleOverviewHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

interface Reads {
  rowsRead: number;
  warnings: string[];
}

async function soft<T>(
  reads: Reads,
  what: string,
  read: () => Promise<T>,
  rows: (value: T) => number,
): Promise<T | null> {
  try {
    const value = await read();
    reads.rowsRead += rows(value);
    return value;
  } catch (error) {
    reads.warnings.push(`${what} could not be read: ${errorText(error)}`);
    return null;
  }
}

async function backlogView(deps: ConsoleOverviewDeps, reads: Reads, nowMs: number) {
  const [live, samples] = await Promise.all([
    soft<BacklogCounts>(
      reads,
      'The queue backlog (runtime properties)',
      () => deps.backlog().read(),
      () => 0,
    ),
    soft(
      reads,
      'The backlog trend',
      () => deps.metrics().readBacklogSamples(),
      (page) => page.rowsRead,
    ),
  ]);
  const history = backlogHistory(samples?.items ?? [], nowMs);
  if (live !== null && backlogSampleDue(history, nowMs)) {
    const sample = { at: new Date(nowMs).toISOString(), ...live };
    // Whoever looks first in a 10-second period records it: the trend costs no timer and no per-event write.
    await soft(
      reads,
      'Recording the backlog sample',
      () => deps.metrics().writeBacklogSample(backlogPosition(nowMs), sample),
      () => 0,
    );
    history.push(sample);
  }
  return {
    active: live?.active ?? null,
    scheduled: live?.scheduled ?? null,
    deadLettered: live?.deadLettered ?? null,
    history,
  };
}

async function stuckCount(deps: ConsoleOverviewDeps, reads: Reads, nowMs: number): Promise<number | null> {
  const summary = await soft(
    reads,
    'The last watchdog tick',
    () => deps.metrics().readWatchdogSummary(),
    () => 1,
  );
  if (summary !== null && summary !== undefined && nowMs - Date.parse(summary.at) <= watchdogFreshMs) {
    return summary.stuckBaskets;
  }
  const cutoff = new Date(nowMs - deps.stuckThresholdMs()).toISOString();
  const counted = await soft(
    reads,
    'The in-flight index',
    () => deps.inFlightIndex().countCandidates(cutoff, countCap),
    (c) => c.count,
  );
  return counted?.count ?? null;
}

export function makeConsoleOverview(deps: ConsoleOverviewDeps): ConsoleOverviewHandler {
  return async (_request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> => {
    const nowMs = deps.now().getTime();
    const reads: Reads = { rowsRead: 0, warnings: [] };
    const [slots, counts, backlog, quarantined, stuckBaskets] = await Promise.all([
      soft(
        reads,
        'The live counts',
        () => deps.metrics().readSlots(firstSlotOfWindow(nowMs)),
        (page) => page.rowsRead,
      ),
      soft<StatusCounts>(
        reads,
        'The basket counts',
        () => deps.metrics().readStatusCounts(),
        () => 1,
      ),
      backlogView(deps, reads, nowMs),
      soft(
        reads,
        'The quarantine',
        () => deps.quarantineCount(countCap),
        (c) => c.count,
      ),
      stuckCount(deps, reads, nowMs),
    ]);
    const live = liveFigures(slots?.items ?? [], nowMs);
    return {
      status: 200,
      jsonBody: {
        generatedAt: new Date(nowMs).toISOString(),
        appliedPerSecond: live.appliedPerSecond,
        latencyMs: live.latencyMs,
        basketsByStatus: counts,
        backlog,
        quarantined: quarantined?.count ?? null,
        heldCalls: live.heldCalls,
        stuckBaskets,
        rowsRead: reads.rowsRead,
        ...(reads.warnings.length === 0 ? {} : { warnings: reads.warnings }),
      },
    };
  };
}

export const consoleOverview = makeConsoleOverview({
  metrics: consoleMetrics,
  backlog: queueBacklog,
  inFlightIndex,
  quarantineCount,
  now,
  stuckThresholdMs: () => getConfig().stuckThresholdMs,
});

app.http(consoleOverviewName, {
  route: 'console/overview',
  methods: ['GET'],
  authLevel: 'function',
  handler: consoleOverview,
});
