import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';
import type { ConsoleMetricsStore, FulfillmentStatusReader } from '../adapters/consolePorts';
import { fulfillmentStatusReaderFor } from '../adapters/durableFulfillmentStatus';
import { settingNames } from '../config';
import { consoleMetrics } from '../consoleDependencies';
import { isTerminal } from '../domain/stuck';
import { orderStatuses } from '../domain/orderRecord';
import { consoleStuckDeps } from './consoleStuck';
import { scanStuckPage, StuckEvidence, type StuckBasket, type StuckScanDeps } from './console/stuckScan';
import { errorText } from '../errors';

/**
 * The stuck-basket watchdog: on STUCK_WATCHDOG_SCHEDULE it pages through the in-flight index's
 * candidates (never the orders table), confirms each against its order, logs one line per stuck
 * basket with the reason and one line per tick with the count (the contract operators alert on),
 * records the tick for the console's overview, and prunes old live-count slots.
 */

export const stuckBasketWatchdogName = 'stuckBasketWatchdog';
/** Candidates one tick reads at most: bounds its time and rows whatever the backlog of stuck baskets. */
export const maxCandidatesPerTick = 5_000;
const pageSize = 200;
/** Live-count slots are kept an hour; each tick deletes at most this many older ones. */
const slotRetentionMs = 3_600_000;
const maxSlotDeletesPerTick = 500;

export interface StuckBasketWatchdogDeps extends StuckScanDeps {
  fulfillmentStatusFor: (context: InvocationContext) => FulfillmentStatusReader;
  metrics: () => ConsoleMetricsStore;
}

export interface WatchdogTick {
  stuck: StuckBasket[];
  inFlight: number;
  rowsRead: number;
  complete: boolean;
}

async function scanAll(deps: StuckBasketWatchdogDeps, context: InvocationContext) {
  const evidence = new StuckEvidence(deps, deps.fulfillmentStatusFor(context));
  const stuck = new Map<string, StuckBasket>();
  let continuation: string | undefined;
  let candidates = 0;
  let rowsRead = 0;
  const warnings = new Set<string>();
  do {
    const page = await scanStuckPage(deps, evidence, pageSize, continuation);
    // A repaired row may be met again further on: one basket counts once.
    for (const item of page.items) stuck.set(item.basketId, item);
    candidates += page.candidates;
    rowsRead += page.rowsRead;
    for (const warning of page.warnings) warnings.add(warning);
    continuation = page.continuation;
  } while (continuation !== undefined && candidates < maxCandidatesPerTick);
  return { stuck: [...stuck.values()], rowsRead, complete: continuation === undefined, warnings };
}

/** Baskets in flight from the shared status counts (one row): every status that is not terminal. */
async function inFlightCount(deps: StuckBasketWatchdogDeps): Promise<{ count: number; rowsRead: number }> {
  const counts = await deps.metrics().readStatusCounts();
  const count = orderStatuses.filter((status) => !isTerminal(status)).reduce((sum, status) => sum + counts[status], 0);
  return { count, rowsRead: 1 };
}

export function makeStuckBasketWatchdog(deps: StuckBasketWatchdogDeps) {
  return async (_timer: Timer, context: InvocationContext): Promise<WatchdogTick> => {
    const scan = await scanAll(deps, context);
    for (const basket of scan.stuck) {
      context.warn(
        `${stuckBasketWatchdogName} stuck basketId=${basket.basketId} status=${basket.status} reason=${basket.reason.code} ${basket.reason.text}`,
      );
    }
    for (const warning of scan.warnings) context.warn(`${stuckBasketWatchdogName}: ${warning}`);
    let inFlight = 0;
    let rowsRead = scan.rowsRead;
    try {
      const counted = await inFlightCount(deps);
      inFlight = counted.count;
      rowsRead += counted.rowsRead;
    } catch (error) {
      context.warn(`${stuckBasketWatchdogName}: the basket counts could not be read: ${errorText(error)}`);
    }
    if (!scan.complete) {
      context.warn(
        `${stuckBasketWatchdogName}: stopped after ${maxCandidatesPerTick} candidates; older stuck baskets come first, the rest next tick.`,
      );
    }
    context.log(
      `${stuckBasketWatchdogName} tick stuckBaskets=${scan.stuck.length} inFlight=${inFlight} rowsRead=${rowsRead}`,
    );
    const at = deps.now();
    await deps.metrics().writeWatchdogSummary({
      at: at.toISOString(),
      stuckBaskets: scan.stuck.length,
      inFlight,
      rowsRead,
      complete: scan.complete,
    });
    await deps
      .metrics()
      .deleteSlotsBefore(new Date(at.getTime() - slotRetentionMs).toISOString(), maxSlotDeletesPerTick);
    return { stuck: scan.stuck, inFlight, rowsRead, complete: scan.complete };
  };
}

export const stuckBasketWatchdog = makeStuckBasketWatchdog({
  ...consoleStuckDeps,
  fulfillmentStatusFor: fulfillmentStatusReaderFor,
  metrics: consoleMetrics,
});

app.timer(stuckBasketWatchdogName, {
  schedule: `%${settingNames.stuckWatchdogSchedule}%`,
  extraInputs: [df.input.durableClient()],
  handler: stuckBasketWatchdog,
});
