import { randomBytes } from 'node:crypto';

/** Explicit baskets for POST /api/sessions, so a caller knows every basket id before publishing. */

const catalogue = [
  { sku: 'SKU-1', unitPrice: 9.5 },
  { sku: 'SKU-2', unitPrice: 4.99 },
  { sku: 'SKU-3', unitPrice: 12 },
] as const;

export interface PlannedRun {
  request: {
    baskets: { basketId: string; currency: string; items: { sku: string; quantity: number; unitPrice: number }[] }[];
    interleave: boolean;
  };
  /** basketId → events published for it (items + BasketCheckedOut + PaymentMade). */
  published: Map<string, number>;
}

export function runPrefix(label: string): string {
  return `${label}-${randomBytes(3).toString('hex')}`;
}

export function planRun(prefix: string, baskets: number, itemsPerBasket: number, interleave = true): PlannedRun {
  const request: PlannedRun['request'] = { baskets: [], interleave };
  const published = new Map<string, number>();
  for (let b = 0; b < baskets; b++) {
    const basketId = `${prefix}-${String(b + 1)}`;
    const items = Array.from({ length: itemsPerBasket }, (_, i) => {
      const product = catalogue[(b + i) % catalogue.length] ?? catalogue[0];
      return { sku: product.sku, quantity: 1 + ((b + i) % 2), unitPrice: product.unitPrice };
    });
    request.baskets.push({ basketId, currency: 'EUR', items });
    published.set(basketId, itemsPerBasket + 2);
  }
  return { request, published };
}
