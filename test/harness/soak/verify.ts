import type { ServiceBusMessage } from '@azure/service-bus';
import { z } from 'zod';
import { eventIdFor } from '../../../src/domain/events';
import { finalStatuses, getOrders, type OrderView } from '../convoyClient';
import { noteProblem, type SoakRun } from './context';
import type { PlannedBasket } from './plan';
import { deadLetters } from './recover';

/**
 * The verify phase: the app's own views, read after everything went quiet, against what was
 * published. Every expected event is applied once and in order, or still in the dead-letter queue.
 */

export interface Verdict {
  applied: number;
  appliedTwice: number;
  outOfOrder: number;
  stuck: number;
  lost: number;
  redeliveriesRecorded: number;
  /** Re-sent messages whose original was applied once. */
  duplicates: number;
  rejected: number;
  quarantined: number;
  deadLetteredLeft: number;
}

type Orders = ReadonlyMap<string, OrderView | undefined>;

export async function verify(run: SoakRun, duplicateSends: readonly ServiceBusMessage[]): Promise<Verdict> {
  const { plan, stack } = run;
  const sessionIds = [
    ...plan.baskets.map((b) => b.basketId),
    ...plan.poison.filter((p) => p.kind === 'invalidEvent').map((p) => p.sessionId),
  ];
  const orders = await getOrders(stack.host.url, sessionIds);
  const inQuarantine = await quarantined(stack.host.url);
  const left = await deadLetters(stack.host.url);
  const leftIds = new Set(left.map((l) => l.messageId));
  const verdict: Verdict = {
    applied: 0,
    appliedTwice: 0,
    outOfOrder: 0,
    stuck: 0,
    lost: 0,
    redeliveriesRecorded: 0,
    duplicates: 0,
    rejected: 0,
    quarantined: 0,
    deadLetteredLeft: left.length,
  };
  const appliedIds = new Set<string>();
  for (const basket of plan.baskets)
    checkBasket(run, basket, orders.get(basket.basketId), leftIds, verdict, appliedIds);
  // A re-sent message is accounted for when its original was applied once.
  verdict.duplicates = duplicateSends.filter((m) => appliedIds.has(String(m.messageId))).length;
  verdict.lost += duplicateSends.length - verdict.duplicates;
  checkPoison(run, orders, inQuarantine, leftIds, verdict);
  return verdict;
}

function checkBasket(
  run: SoakRun,
  basket: PlannedBasket,
  order: OrderView | undefined,
  leftIds: ReadonlySet<string>,
  verdict: Verdict,
  appliedIds: Set<string>,
): void {
  const counts = new Map<string, number>();
  for (const a of order?.applied ?? []) counts.set(a.eventId, (counts.get(a.eventId) ?? 0) + 1);
  verdict.appliedTwice += [...counts.values()].filter((c) => c > 1).length;
  const sequences = order?.applied.map((a) => a.sequence) ?? [];
  if (sequences.some((s, i) => i > 0 && s <= (sequences[i - 1] ?? 0)) || sequences.some((s, i) => s !== i + 1))
    verdict.outOfOrder++;
  if (order === undefined || !finalStatuses.has(order.status)) {
    verdict.stuck++;
    noteProblem(run, `stuck: ${describe(basket.basketId, order)}`);
  }
  verdict.redeliveriesRecorded += order?.duplicates.length ?? 0;
  for (let sequence = 1; sequence <= basket.lastSequence; sequence++) {
    const id = eventIdFor(basket.basketId, sequence);
    if (counts.has(id)) {
      verdict.applied++;
      appliedIds.add(id);
    } else if (!leftIds.has(id)) {
      verdict.lost++;
      noteProblem(run, `lost: ${id} (${describe(basket.basketId, order)})`);
    }
  }
}

/** Each poison message is rejected (invalid event) or quarantined (no basket of its own), else lost. */
function checkPoison(
  run: SoakRun,
  orders: Orders,
  inQuarantine: ReadonlySet<string>,
  leftIds: ReadonlySet<string>,
  verdict: Verdict,
): void {
  for (const p of run.plan.poison) {
    if (p.kind === 'invalidEvent') {
      const order = orders.get(p.sessionId);
      if (order?.rejected.some((r) => r.sequence === 1) === true) verdict.rejected++;
      else if (!leftIds.has(p.messageId)) {
        verdict.lost++;
        verdict.stuck++;
        noteProblem(run, `poison ${p.messageId} not rejected: ${describe(p.sessionId, order)}`);
      }
    } else if (inQuarantine.has(p.messageId)) verdict.quarantined++;
    else if (!leftIds.has(p.messageId)) {
      verdict.lost++;
      noteProblem(run, `poison ${p.messageId} (${p.kind}) not in quarantine`);
    }
  }
}

function describe(basketId: string, order: OrderView | undefined): string {
  if (order === undefined) return `${basketId}: no order`;
  const sequences = (entries: readonly { sequence: number }[]): string =>
    entries.map((e) => e.sequence).join(',') || '-';
  return `${basketId}: ${order.status}, applied ${sequences(order.applied)}, parked ${sequences(order.parked)}, rejected ${sequences(order.rejected)}`;
}

const quarantineSchema = z.object({ messages: z.array(z.object({ messageId: z.string() })) });

async function quarantined(baseUrl: string): Promise<Set<string>> {
  const response = await fetch(`${baseUrl}/api/quarantine?limit=1000`, { signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET /api/quarantine answered ${String(response.status)}: ${text}`);
  return new Set(quarantineSchema.parse(JSON.parse(text)).messages.map((m) => m.messageId));
}
