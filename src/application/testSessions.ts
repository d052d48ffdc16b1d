import type { PublishOptions } from '../adapters/ports';
import { eventIdFor, toMinorUnits, type EventEnvelope, type ItemAddedData } from '../domain/events';

/** A test session's basket as the producer plans it (POST /api/sessions), before it becomes events. */
export interface PlannedBasket {
  basketId: string;
  currency: string;
  items: ItemAddedData[];
}

/** The events of one basket, in sequence order; the k-th (0-based) is due k × delayMs after `start`. */
export function basketEvents(
  basket: PlannedBasket,
  start: Date,
  delayMs: number | undefined,
): { event: EventEnvelope; options: PublishOptions }[] {
  const totalMinor = basket.items.reduce((sum, item) => sum + item.quantity * toMinorUnits(item.unitPrice), 0);
  const dueAt = (k: number): Date => new Date(start.getTime() + k * (delayMs ?? 0));
  const envelope = (k: number) => ({
    basketId: basket.basketId,
    sequence: k + 1,
    eventId: eventIdFor(basket.basketId, k + 1),
    occurredAt: dueAt(k).toISOString(),
  });
  const n = basket.items.length;
  const events: EventEnvelope[] = [
    ...basket.items.map((item, k) => ({ ...envelope(k), type: 'ItemAdded' as const, data: item })),
    { ...envelope(n), type: 'BasketCheckedOut', data: { currency: basket.currency } },
    { ...envelope(n + 1), type: 'PaymentMade', data: { amount: totalMinor / 100, currency: basket.currency } },
  ];
  return events.map((event, k) => ({ event, options: k > 0 && (delayMs ?? 0) > 0 ? { notBefore: dueAt(k) } : {} }));
}

/** Round-robin across baskets (event 1 of every basket, then event 2, ...); each basket keeps its own order. */
export function interleave<T>(perBasket: readonly (readonly T[])[]): T[] {
  const longest = Math.max(0, ...perBasket.map((events) => events.length));
  const out: T[] = [];
  for (let k = 0; k < longest; k++) {
    for (const events of perBasket) {
      const event = events[k];
      if (event !== undefined) out.push(event);
    }
  }
  return out;
}
