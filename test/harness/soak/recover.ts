import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { fulfillmentInstanceId, fulfillOrderOrchestration } from '../../../src/adapters/durableFulfillment';
import { finalStatuses, getOrders, type OrderView } from '../convoyClient';
import { noteProblem, type SoakRun } from './context';
import type { PlannedBasket } from './plan';

/**
 * The drain phase: wait until the convoy goes quiet, then recover what an operator would (replay
 * dead letters; start again the fulfillments lost with a killed host), up to five rounds.
 */

export interface DeadLetter {
  messageId: string;
  sessionId?: string | undefined;
  reason?: string | undefined;
}

/** Every message seen in the dead-letter queue, by message id. */
export type LetterLog = Map<string, { reason: string; replayed: boolean }>;

export interface Recovery {
  letters: LetterLog;
  fulfillmentsResumed: number;
}

export async function drainAndRecover(run: SoakRun): Promise<Recovery> {
  const recovery: Recovery = { letters: new Map(), fulfillmentsResumed: 0 };
  for (let round = 1; ; round++) {
    await waitUntilQuiet(run);
    const found = await deadLetters(run.stack.host.url);
    for (const letter of found) {
      if (!recovery.letters.has(letter.messageId))
        recovery.letters.set(letter.messageId, { reason: letter.reason ?? 'no reason given', replayed: false });
    }
    const lettered = new Set(found.flatMap((l) => (l.sessionId === undefined ? [] : [l.sessionId])));
    for (const basketId of lettered) await replayDeadLetters(run, basketId, found, recovery.letters);
    run.completion.refresh();
    const pending = run.plan.baskets.filter((b) => !run.completion.has(b.basketId)).map((b) => b.basketId);
    const orders = await getOrders(run.stack.host.url, pending);
    const resumed = await resumeLostFulfillments(run, orders, lettered);
    recovery.fulfillmentsResumed += resumed;
    const notFinal = [...orders].filter(([, o]) => o === undefined || !finalStatuses.has(o.status)).length;
    run.options.log(
      `  recovery round ${String(round)}: ${String(pending.length)} not seen complete, ${String(notFinal)} not final; replayed dead letters of ${String(lettered.size)} baskets, resumed ${String(resumed)} fulfillments`,
    );
    if ((notFinal === 0 && lettered.size === 0) || Date.now() > run.deadline || round >= 5) return recovery;
  }
}

/** Waits until every basket is complete or no invocation for quietMs (or the deadline). */
async function waitUntilQuiet(run: SoakRun): Promise<void> {
  const { stack, plan, options } = run;
  const complete = (): boolean => run.completion.refresh().size === plan.baskets.length;
  let count = stack.events.length;
  let since = Date.now();
  while (!complete() && Date.now() - since < options.quietMs && Date.now() < run.deadline) {
    await sleep(500);
    if (stack.events.length !== count) {
      count = stack.events.length;
      since = Date.now();
    }
  }
}

async function replayDeadLetters(
  run: SoakRun,
  basketId: string,
  found: readonly DeadLetter[],
  letters: LetterLog,
): Promise<void> {
  const replay = await fetch(`${run.stack.host.url}/api/dead-letters/${encodeURIComponent(basketId)}/replay`, {
    method: 'POST',
    signal: AbortSignal.timeout(60_000),
  });
  const text = await replay.text();
  if (replay.status !== 200) {
    noteProblem(run, `replay of ${basketId} answered ${String(replay.status)}: ${text.slice(0, 200)}`);
    return;
  }
  for (const l of found)
    if (l.sessionId === basketId)
      letters.set(l.messageId, { reason: letters.get(l.messageId)?.reason ?? '', replayed: true });
}

/** Paid baskets one event short with no dead letter: their fulfillment died with a killed host. */
async function resumeLostFulfillments(
  run: SoakRun,
  orders: ReadonlyMap<string, OrderView | undefined>,
  lettered: ReadonlySet<string>,
): Promise<number> {
  let resumed = 0;
  for (const [basketId, order] of orders) {
    const basket = run.plan.byId.get(basketId);
    if (basket === undefined || lettered.has(basketId)) continue;
    if (order?.status !== 'Paid' || order.lastAppliedSequence !== basket.lastSequence - 1) continue;
    await resumeFulfillment(run.stack.host.url, basket);
    resumed++;
  }
  return resumed;
}

/** The input processOrderEvent gives fulfillOrder: lines per SKU, InventoryUpdated after PaymentMade. */
async function resumeFulfillment(baseUrl: string, basket: PlannedBasket): Promise<void> {
  const input = { basketId: basket.basketId, lines: basket.lines, nextSequence: basket.lastSequence };
  const instanceId = encodeURIComponent(fulfillmentInstanceId(basket.basketId));
  const response = await fetch(
    `${baseUrl}/runtime/webhooks/durabletask/orchestrators/${fulfillOrderOrchestration}/${instanceId}`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) },
  );
  const text = await response.text();
  if (response.status !== 202)
    throw new Error(`starting fulfillOrder for ${basket.basketId} answered ${String(response.status)}: ${text}`);
}

const deadLetterListSchema = z.object({
  complete: z.boolean(),
  baskets: z.array(
    z.object({
      basketId: z.string().nullable(),
      messages: z.array(
        z.object({ messageId: z.string(), sessionId: z.string().optional(), reason: z.string().optional() }),
      ),
    }),
  ),
});

export async function deadLetters(baseUrl: string): Promise<DeadLetter[]> {
  const response = await fetch(`${baseUrl}/api/dead-letters?scan=5000`, { signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET /api/dead-letters answered ${String(response.status)}: ${text}`);
  const list = deadLetterListSchema.parse(JSON.parse(text));
  return list.baskets.flatMap((b) => b.messages);
}
