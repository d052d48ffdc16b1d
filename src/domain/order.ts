import type { EventEnvelope, InventoryUpdatedData } from './events';
import { toMinorUnits } from './events';
import type { OrderLine, OrderStatus } from './orderRecord';

/**
 * The order as a decider: given its state and the next event of the basket, either the event is
 * allowed (and `evolve` gives the new state) or it breaks a rule (and `decide` names the rule).
 * Open → CheckedOut → Paid → Fulfilled | Backordered. Blocked is set by the convoy, never here.
 */

export interface OrderState {
  status: OrderStatus;
  lines: OrderLine[];
  /** Set at checkout; payment must be in this currency. */
  currency?: string | undefined;
  /** Basket total in minor units (cents). */
  totalMinor: number;
  inventory?: InventoryUpdatedData | undefined;
}

export type Decision = { accepted: true; state: OrderState } | { accepted: false; reason: string };

export const initialOrderState: OrderState = { status: 'Open', lines: [], totalMinor: 0 };

export function formatMinor(minor: number, currency?: string): string {
  const amount = (minor / 100).toFixed(2);
  return currency === undefined ? amount : `${amount} ${currency}`;
}

/** The rule an event breaks in this state, or undefined when it is allowed. */
export function violation(state: OrderState, event: EventEnvelope): string | undefined {
  const refused = (allowedIn: OrderStatus) =>
    `${event.type} is only allowed while the order is ${allowedIn}; it is ${state.status}.`;
  switch (event.type) {
    case 'ItemAdded':
      return state.status === 'Open' ? undefined : refused('Open');
    case 'BasketCheckedOut':
      if (state.status !== 'Open') return refused('Open');
      return state.lines.length === 0 ? 'BasketCheckedOut needs at least one item in the basket.' : undefined;
    case 'PaymentMade': {
      if (state.status !== 'CheckedOut') return refused('CheckedOut');
      const paid = toMinorUnits(event.data.amount);
      if (event.data.currency !== state.currency || paid !== state.totalMinor) {
        return `PaymentMade of ${formatMinor(paid, event.data.currency)} does not equal the basket total of ${formatMinor(state.totalMinor, state.currency)}.`;
      }
      return undefined;
    }
    case 'InventoryUpdated':
      return state.status === 'Paid' ? undefined : refused('Paid');
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

/** The state after an allowed event. */
export function evolve(state: OrderState, event: EventEnvelope): OrderState {
  switch (event.type) {
    case 'ItemAdded':
      return {
        ...state,
        lines: [...state.lines, event.data],
        totalMinor: state.totalMinor + event.data.quantity * toMinorUnits(event.data.unitPrice),
      };
    case 'BasketCheckedOut':
      return { ...state, status: 'CheckedOut', currency: event.data.currency };
    case 'PaymentMade':
      return { ...state, status: 'Paid' };
    case 'InventoryUpdated':
      return {
        ...state,
        status: event.data.outcome === 'reserved' ? 'Fulfilled' : 'Backordered',
        inventory: event.data,
      };
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

export function decide(state: OrderState, event: EventEnvelope): Decision {
  const reason = violation(state, event);
  return reason === undefined ? { accepted: true, state: evolve(state, event) } : { accepted: false, reason };
}

/** Quantity per SKU, in the order SKUs were first added: what fulfillment must reserve. */
export function quantitiesBySku(
  lines: readonly { sku: string; quantity: number }[],
): { sku: string; quantity: number }[] {
  const totals = new Map<string, number>();
  for (const line of lines) totals.set(line.sku, (totals.get(line.sku) ?? 0) + line.quantity);
  return [...totals].map(([sku, quantity]) => ({ sku, quantity }));
}
