import type { InFlightIndex } from '../../adapters/consolePorts';
import type { FulfillmentStatusReader } from '../../adapters/consolePorts';
import type { DeadLetter, DeadLetterQueue, OrderStore, QuarantineStore } from '../../adapters/ports';
import { maxScannedRows } from '../../adapters/tableQuarantineStore';
import type { OrderRecord, QuarantinedMessage } from '../../domain/orderRecord';
import {
  inFlightRowOf,
  isStuck,
  lastProgressAt,
  stuckReason,
  type InFlightRow,
  type StuckReason,
} from '../../domain/stuck';
import { errorText } from '../../errors';

/**
 * Finds stuck baskets one bounded page at a time, without scanning the orders table: the in-flight
 * index's rows whose last-progress bucket starts at or before now − threshold are candidates; each is
 * confirmed against its order (the index may be stale, never ahead), and a stale row is repaired on
 * the way. Shared by GET /api/console/stuck and the stuckBasketWatchdog timer.
 */

export interface StuckScanDeps {
  inFlightIndex: () => InFlightIndex;
  orderStore: () => OrderStore;
  deadLetters: () => DeadLetterQueue;
  quarantineStore: () => QuarantineStore;
  now: () => Date;
  stuckThresholdMs: () => number;
  bucketMs: () => number;
}

export interface OperatorAction {
  label: string;
  method: 'POST';
  href: string;
}

export interface StuckBasket {
  basketId: string;
  status: OrderRecord['status'];
  lastProgressAt: string;
  ageSeconds: number;
  reason: StuckReason;
  actions: OperatorAction[];
}

export interface StuckPage {
  items: StuckBasket[];
  continuation?: string | undefined;
  /** Index rows, orders, dead letters and quarantine rows read for this page. */
  rowsRead: number;
  candidates: number;
  /** Stale index rows moved or dropped (the order had moved on, ended, or vanished). */
  repaired: number;
  /** What could not be read; the page is still answered, with less specific reasons. */
  warnings: string[];
}

/** How many dead letters one scan looks at to explain its baskets. */
export const evidenceScan = 1000;
/**
 * The quarantine adapter reads at most this many rows per list whatever the limit asked; asking for
 * all of them makes the rows-read count exact (and the basket's quarantined messages complete).
 */
export const quarantineScan = maxScannedRows;
/** Orders read at once while confirming a page of candidates. */
const confirmConcurrency = 16;

/**
 * The dead-letter queue and the quarantine, read once per scan (not per basket) and grouped by
 * basket, so explaining a page of stuck baskets costs two bounded reads.
 */
export class StuckEvidence {
  private deadLetters: Promise<Map<string, DeadLetter[]>> | undefined;
  private quarantine: Promise<Map<string, QuarantinedMessage[]>> | undefined;
  rowsRead = 0;
  readonly warnings: string[] = [];

  constructor(
    private readonly deps: Pick<StuckScanDeps, 'deadLetters' | 'quarantineStore'>,
    private readonly fulfillment: FulfillmentStatusReader,
  ) {}

  deadLettersOf(basketId: string): Promise<DeadLetter[]> {
    this.deadLetters ??= this.deps
      .deadLetters()
      .peek(undefined, evidenceScan)
      .then((scan) => {
        this.rowsRead += scan.scanned;
        if (!scan.complete) this.warnings.push(`Only the first ${scan.scanned} dead letters were looked at.`);
        return groupBy(scan.messages, (letter) => letter.sessionId);
      })
      .catch((error: unknown) => {
        this.warnings.push(`The dead-letter queue could not be read: ${errorText(error)}`);
        return new Map();
      });
    return this.deadLetters.then((groups) => groups.get(basketId) ?? []);
  }

  quarantinedOf(basketId: string): Promise<QuarantinedMessage[]> {
    this.quarantine ??= this.deps
      .quarantineStore()
      .list(quarantineScan)
      .then((messages) => {
        this.rowsRead += messages.length;
        return groupBy(messages, (message) => message.sessionId);
      })
      .catch((error: unknown) => {
        this.warnings.push(`The quarantine could not be read: ${errorText(error)}`);
        return new Map();
      });
    return this.quarantine.then((groups) => groups.get(basketId) ?? []);
  }

  async fulfillmentStatusOf(basketId: string): Promise<string | undefined> {
    try {
      return (await this.fulfillment.status(basketId, false))?.runtimeStatus;
    } catch (error) {
      return `unknown (its status could not be read: ${errorText(error)})`;
    }
  }
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    if (key === undefined) continue;
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return groups;
}

export function actionsFor(
  basketId: string,
  reason: StuckReason,
  quarantined: readonly QuarantinedMessage[],
): OperatorAction[] {
  if (reason.code === 'dead-lettered') {
    return [
      {
        label: 'Replay its dead letters',
        method: 'POST',
        href: `/api/dead-letters/${encodeURIComponent(basketId)}/replay`,
      },
    ];
  }
  if (reason.code === 'quarantined') {
    return quarantined.map((message) => ({
      label: `Replay quarantined message ${message.messageId}`,
      method: 'POST',
      href: `/api/quarantine/${encodeURIComponent(message.messageId)}/replay`,
    }));
  }
  return [];
}

/** The stuck basket as the console shows it: the reason in words and the action that heals it. */
export async function explainStuck(record: OrderRecord, nowMs: number, evidence: StuckEvidence): Promise<StuckBasket> {
  const [deadLetters, quarantined, fulfillmentStatus] = await Promise.all([
    evidence.deadLettersOf(record.basketId),
    evidence.quarantinedOf(record.basketId),
    record.status === 'Paid' ? evidence.fulfillmentStatusOf(record.basketId) : Promise.resolve(undefined),
  ]);
  const reason = stuckReason(record, { deadLetters, quarantined, fulfillmentStatus });
  const progress = lastProgressAt(record);
  return {
    basketId: record.basketId,
    status: record.status,
    lastProgressAt: progress,
    ageSeconds: Math.max(0, Math.floor((nowMs - Date.parse(progress)) / 1000)),
    reason,
    actions: actionsFor(record.basketId, reason, quarantined),
  };
}

type Confirmed = { kind: 'stuck'; record: OrderRecord } | { kind: 'moving' } | { kind: 'repaired' };

/** Reads the candidate's order and puts its index row where the order says it belongs. */
async function confirm(deps: StuckScanDeps, row: InFlightRow, nowMs: number): Promise<Confirmed> {
  const stored = await deps.orderStore().get(row.basketId);
  const index = deps.inFlightIndex();
  const belongs = stored === undefined ? undefined : inFlightRowOf(stored.record, deps.bucketMs());
  let repaired = false;
  if (belongs?.bucket !== row.bucket) {
    // The order moved on (a crash between its save and the index write, or a bucket width change),
    // ended, or is gone: put the row where it belongs before dropping this one, so the basket is
    // never without a row while it is in flight.
    if (belongs !== undefined) await index.put(belongs);
    await index.drop(row.bucket, row.basketId);
    repaired = true;
  }
  if (stored !== undefined && isStuck(stored.record, nowMs, deps.stuckThresholdMs())) {
    return { kind: 'stuck', record: stored.record };
  }
  return repaired ? { kind: 'repaired' } : { kind: 'moving' };
}

async function inBatches<T, R>(items: readonly T[], size: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) {
    results.push(...(await Promise.all(items.slice(start, start + size).map(run))));
  }
  return results;
}

export async function scanStuckPage(
  deps: StuckScanDeps,
  evidence: StuckEvidence,
  limit: number,
  continuation: string | undefined,
): Promise<StuckPage> {
  const nowMs = deps.now().getTime();
  const cutoff = new Date(nowMs - deps.stuckThresholdMs()).toISOString();
  const page = await deps.inFlightIndex().candidates(cutoff, limit, continuation);
  const warnings: string[] = [];
  const confirmed = await inBatches(page.items, confirmConcurrency, async (row) => {
    try {
      return await confirm(deps, row, nowMs);
    } catch (error) {
      warnings.push(`Basket ${row.basketId} could not be checked: ${errorText(error)}`);
      return { kind: 'moving' } as const;
    }
  });
  const rowsBefore = evidence.rowsRead;
  const items = await inBatches(
    confirmed.flatMap((result) => (result.kind === 'stuck' ? [result.record] : [])),
    confirmConcurrency,
    (record) => explainStuck(record, nowMs, evidence),
  );
  return {
    items,
    ...(page.continuation === undefined ? {} : { continuation: page.continuation }),
    rowsRead: page.rowsRead * 2 + evidence.rowsRead - rowsBefore,
    candidates: page.items.length,
    repaired: confirmed.filter((result) => result.kind === 'repaired').length,
    warnings: [...warnings, ...evidence.warnings],
  };
}
