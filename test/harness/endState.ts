import { z } from 'zod';
import { finalStatuses, type OrderView } from './convoyClient';
import type { PlannedRun } from './baskets';

const inventorySchema = z.object({
  sku: z.string(),
  available: z.number(),
  reserved: z.number(),
  reservations: z.number(),
  sold: z.number(),
});
export type InventoryView = z.infer<typeof inventorySchema>;

export async function getInventory(baseUrl: string, sku: string): Promise<InventoryView> {
  const response = await fetch(`${baseUrl}/api/inventory/${encodeURIComponent(sku)}`);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET inventory ${sku} answered ${String(response.status)}: ${text}`);
  return inventorySchema.parse(JSON.parse(text));
}

/**
 * Stock after a run on fresh storage with no restock: per SKU, sold = the units of the Fulfilled
 * baskets, nothing still reserved, available = the default stock minus sold. One line per mismatch.
 */
export async function stockViolations(
  baseUrl: string,
  plan: PlannedRun,
  orders: ReadonlyMap<string, OrderView | undefined>,
  defaultStock: number,
): Promise<{ violations: string[]; stock: InventoryView[] }> {
  const soldBySku = new Map<string, number>();
  for (const basket of plan.request.baskets) {
    const fulfilled = orders.get(basket.basketId)?.status === 'Fulfilled';
    for (const item of basket.items) {
      soldBySku.set(item.sku, (soldBySku.get(item.sku) ?? 0) + (fulfilled ? item.quantity : 0));
    }
  }
  const violations: string[] = [];
  const stock: InventoryView[] = [];
  for (const [sku, sold] of soldBySku) {
    const view = await getInventory(baseUrl, sku);
    stock.push(view);
    const expected = { available: defaultStock - sold, reserved: 0, reservations: 0, sold };
    const actual = {
      available: view.available,
      reserved: view.reserved,
      reservations: view.reservations,
      sold: view.sold,
    };
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      violations.push(`${sku}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
    }
  }
  return { violations, stock };
}

/**
 * What must hold for every basket at the end, one line per basket that breaks it: final status,
 * applied log = its events 1..n then InventoryUpdated in order, nothing parked or rejected.
 */
export function convoyViolations(
  orders: ReadonlyMap<string, OrderView | undefined>,
  published: ReadonlyMap<string, number>,
): string[] {
  const violations: string[] = [];
  for (const [basketId, events] of published) {
    const order = orders.get(basketId);
    if (order === undefined) {
      violations.push(`${basketId}: no order (404)`);
      continue;
    }
    const applied = order.applied.map((a) => a.sequence).join(',');
    const expected = Array.from({ length: events + 1 }, (_, k) => k + 1).join(',');
    const problems = [
      ...(finalStatuses.has(order.status) ? [] : [`status ${order.status}`]),
      ...(applied === expected ? [] : [`applied ${applied || '-'} (expected ${expected})`]),
      ...(order.parked.length === 0 ? [] : [`parked ${order.parked.map((p) => p.sequence).join(',')}`]),
      ...(order.rejected.length === 0 ? [] : [`rejected ${order.rejected.map((r) => r.sequence).join(',')}`]),
    ];
    if (problems.length > 0) violations.push(`${basketId}: ${problems.join('; ')}`);
  }
  return violations;
}
