import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';

/** The convoy's HTTP contract as a test or the bench reads it (parsed, never cast). */

const publishResponseSchema = z.object({
  baskets: z.array(z.object({ basketId: z.string(), events: z.number().int(), statusUrl: z.string() })),
});
export type PublishResponse = z.infer<typeof publishResponseSchema>;

export const orderViewSchema = z.object({
  basketId: z.string(),
  status: z.string(),
  lastAppliedSequence: z.number().int(),
  applied: z.array(
    z.object({
      sequence: z.number().int(),
      type: z.string(),
      eventId: z.string(),
      occurredAt: z.string(),
      appliedAt: z.string(),
      deliveryCount: z.number(),
    }),
  ),
  parked: z.array(z.object({ sequence: z.number().int() })),
  rejected: z.array(z.object({ sequence: z.number().int(), reason: z.string() })),
  duplicates: z.array(z.object({ sequence: z.number().int(), eventId: z.string(), deliveryCount: z.number() })),
});
export type OrderView = z.infer<typeof orderViewSchema>;

export const finalStatuses: ReadonlySet<string> = new Set(['Fulfilled', 'Backordered']);

export async function publishBaskets(baseUrl: string, request: unknown): Promise<PublishResponse> {
  const response = await fetch(`${baseUrl}/api/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  const text = await response.text();
  if (response.status !== 202) throw new Error(`POST /api/sessions answered ${String(response.status)}: ${text}`);
  return publishResponseSchema.parse(JSON.parse(text));
}

/** undefined while no event of the basket has been processed (404). */
export async function getOrder(baseUrl: string, basketId: string): Promise<OrderView | undefined> {
  const response = await fetch(`${baseUrl}/api/orders/${encodeURIComponent(basketId)}`);
  const text = await response.text();
  if (response.status === 404) return undefined;
  if (response.status !== 200) throw new Error(`GET order ${basketId} answered ${String(response.status)}: ${text}`);
  return orderViewSchema.parse(JSON.parse(text));
}

/** Reads many orders with bounded concurrency (the host and Azurite share two cores). */
export async function getOrders(
  baseUrl: string,
  basketIds: readonly string[],
  parallel = 16,
): Promise<Map<string, OrderView | undefined>> {
  const result = new Map<string, OrderView | undefined>();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < basketIds.length; i = next++) {
      const id = basketIds[i];
      if (id !== undefined) result.set(id, await getOrder(baseUrl, id));
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return result;
}

export function describeOrder(basketId: string, order: OrderView | undefined): string {
  if (order === undefined) return `${basketId}: not seen yet`;
  return `${basketId}: ${order.status}, applied ${order.applied.map((a) => a.sequence).join(',') || '-'}, parked ${order.parked.map((p) => p.sequence).join(',') || '-'}`;
}

/**
 * Polls until `done` holds for every basket, or fails after `timeoutMs` naming the baskets that
 * were not done and where they stood.
 */
export async function waitForOrders(
  baseUrl: string,
  basketIds: readonly string[],
  done: (order: OrderView | undefined) => boolean,
  timeoutMs: number,
  what = 'Fulfilled or Backordered',
): Promise<Map<string, OrderView | undefined>> {
  const deadline = Date.now() + timeoutMs;
  let pending = [...basketIds];
  const orders = new Map<string, OrderView | undefined>();
  for (;;) {
    const read = await getOrders(baseUrl, pending);
    for (const [id, order] of read) orders.set(id, order);
    pending = pending.filter((id) => !done(orders.get(id)));
    if (pending.length === 0) return orders;
    if (Date.now() > deadline) {
      const sample = pending.slice(0, 10).map((id) => describeOrder(id, orders.get(id)));
      throw new Error(
        `${String(pending.length)} of ${String(basketIds.length)} baskets were not ${what} within ${String(timeoutMs)} ms:\n  ${sample.join('\n  ')}`,
      );
    }
    await sleep(300);
  }
}
