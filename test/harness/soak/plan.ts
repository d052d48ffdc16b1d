import type { ServiceBusMessage } from '@azure/service-bus';
import { toServiceBusMessage } from '../../../src/adapters/serviceBusPublisher';
import { eventEnvelopeSchema, eventIdFor } from '../../../src/domain/events';
import type { Fault } from '../hostProtocol';
import type { FaultKind, SoakOptions } from './types';

/**
 * What a soak publishes and which faults it injects, all derived from one seed so a failing run
 * can be repeated exactly (same baskets, same victims, same times).
 */

/** mulberry32: small, fast, good enough to spread faults; never used for anything secret. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const catalogue = [
  { sku: 'SKU-1', unitPrice: 9.5 },
  { sku: 'SKU-2', unitPrice: 4.99 },
  { sku: 'SKU-3', unitPrice: 12 },
] as const;

export interface PlannedBasket {
  basketId: string;
  /** Events the soak publishes: ItemAdded × n, BasketCheckedOut, PaymentMade (sequences 1..n+2). */
  messages: ServiceBusMessage[];
  /** The last sequence of a complete basket: the InventoryUpdated the fulfillment publishes (n+3). */
  lastSequence: number;
  /** Lines per SKU, as processOrderEvent hands them to the fulfillment. */
  lines: { sku: string; quantity: number }[];
}

export type PoisonKind = 'unattributable' | 'mismatch' | 'invalidEvent';

export interface PlannedPoison {
  kind: PoisonKind;
  /** A dedicated session per poison message, so no real basket is held behind it. */
  sessionId: string;
  messageId: string;
  message: ServiceBusMessage;
}

export function planBaskets(prefix: string, count: number, random: () => number): PlannedBasket[] {
  const occurredAt = new Date().toISOString();
  return Array.from({ length: count }, (_, b) => {
    const basketId = `${prefix}-${String(b + 1)}`;
    const n = 1 + Math.floor(random() * 3);
    const items = Array.from({ length: n }, (_, i) => {
      const product = catalogue[(b + i) % catalogue.length] ?? catalogue[0];
      return { sku: product.sku, quantity: 1 + ((b + i) % 2), unitPrice: product.unitPrice };
    });
    const cents = items.reduce((sum, item) => sum + Math.round(item.unitPrice * 100) * item.quantity, 0);
    const bodies = [
      ...items.map((data) => ({ type: 'ItemAdded', data })),
      { type: 'BasketCheckedOut', data: { currency: 'EUR' } },
      { type: 'PaymentMade', data: { amount: cents / 100, currency: 'EUR' } },
    ].map((event, i) =>
      // Parsed by the app's own contract: a soak that published invalid "valid" events would prove nothing.
      eventEnvelopeSchema.parse({
        basketId,
        sequence: i + 1,
        eventId: eventIdFor(basketId, i + 1),
        occurredAt,
        ...event,
      }),
    );
    const lines = new Map<string, number>();
    for (const item of items) lines.set(item.sku, (lines.get(item.sku) ?? 0) + item.quantity);
    return {
      basketId,
      messages: bodies.map((event) => toServiceBusMessage(event)),
      lastSequence: n + 3,
      lines: [...lines].map(([sku, quantity]) => ({ sku, quantity })),
    };
  });
}

/** Poison in three shapes: no basket at all, a body naming another basket, a schema-invalid event. */
export function planPoison(prefix: string, count: number): PlannedPoison[] {
  const kinds: PoisonKind[] = ['unattributable', 'mismatch', 'invalidEvent'];
  return Array.from({ length: count }, (_, i) => {
    const kind = kinds[i % kinds.length] ?? 'unattributable';
    const sessionId = `${prefix}-poison-${String(i + 1)}`;
    if (kind === 'invalidEvent') {
      const messageId = eventIdFor(sessionId, 1);
      const body = {
        basketId: sessionId,
        sequence: 1,
        eventId: messageId,
        type: 'ItemAdded',
        occurredAt: new Date().toISOString(),
        data: { sku: 'SKU-1', quantity: -3, unitPrice: 1 },
      };
      return { kind, sessionId, messageId, message: { body, messageId, sessionId, contentType: 'application/json' } };
    }
    const messageId = `${sessionId}:junk`;
    const body =
      kind === 'unattributable'
        ? { hello: 'not an order event', n: i }
        : { basketId: `${prefix}-elsewhere-${String(i)}`, sequence: 1, type: 'ItemAdded' };
    return { kind, sessionId, messageId, message: { body, messageId, sessionId, contentType: 'application/json' } };
  });
}

/** Interleaves baskets like a busy shop: sequence 1 of every basket, then sequence 2 of every basket, ... */
export function interleave(baskets: readonly PlannedBasket[]): ServiceBusMessage[] {
  const out: ServiceBusMessage[] = [];
  const longest = Math.max(0, ...baskets.map((b) => b.messages.length));
  for (let s = 0; s < longest; s++) {
    for (const basket of baskets) {
      const message = basket.messages[s];
      if (message !== undefined) out.push(message);
    }
  }
  return out;
}

/** k distinct picks from items (Floyd-free: shuffle a copy; the lists here are small enough). */
export function pick<T>(items: readonly T[], k: number, random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = copy[i];
    const b = copy[j];
    if (a !== undefined && b !== undefined) {
      copy[i] = b;
      copy[j] = a;
    }
  }
  return copy.slice(0, Math.min(k, copy.length));
}

/** Everything one seed decides: baskets, poison, victims, the fault schedule, the publish chunks. */
export interface SoakPlan {
  baskets: PlannedBasket[];
  byId: Map<string, PlannedBasket>;
  poison: PlannedPoison[];
  /** Events of every basket the soak publishes (no duplicates, no poison). */
  eventCount: number;
  /** Handler exceptions the host child injects, by message id. */
  handlerFaults: Fault[];
  /** Events re-sent with the same message id. */
  duplicateVictims: ServiceBusMessage[];
  /** Disruptive faults in order; each waits for its share of the chunk before it to complete. */
  schedule: { kind: FaultKind; share: number }[];
  /** Two chunks per fault (one before it, one published while it lasts) and a last one after the schedule. */
  chunks: PlannedBasket[][];
  poisonPerChunk: number;
  /** How long a SIGSTOP lasts: past the lock, so the lock is lost. */
  hostStopMs: number;
}

export function planSoak(options: SoakOptions): SoakPlan {
  // The order of the random draws is part of the seed's meaning: keep it.
  const random = seededRandom(options.seed);
  const prefix = `soak${String(options.seed)}`;
  const baskets = planBaskets(prefix, options.baskets, random);
  const poison = planPoison(prefix, options.poison);
  const allEvents = baskets.flatMap((b) => b.messages);
  const handlerFaults: Fault[] = pick(allEvents, options.handlerExceptions, random).map((m, i) => ({
    messageId: String(m.messageId),
    when: i % 2 === 0 ? 'before' : 'after',
  }));
  const duplicateVictims = pick(allEvents, options.duplicates, random);
  const disruptive: FaultKind[] = [
    ...Array<FaultKind>(options.hostKills).fill('hostKill'),
    ...Array<FaultKind>(options.hostStops).fill('hostStop'),
    ...Array<FaultKind>(options.storageOutages).fill('storageOutage'),
    ...Array<FaultKind>(options.emulatorRestarts).fill('emulatorRestart'),
  ];
  // A seeded share of 20-60 %, so each fault hits work in flight.
  const schedule = pick(disruptive, disruptive.length, random).map((kind) => ({ kind, share: 0.2 + 0.4 * random() }));
  const chunkCount = 2 * schedule.length + 1;
  const chunks = Array.from({ length: chunkCount }, (_, c) =>
    baskets.slice(Math.floor((c * baskets.length) / chunkCount), Math.floor(((c + 1) * baskets.length) / chunkCount)),
  );
  return {
    baskets,
    byId: new Map(baskets.map((b) => [b.basketId, b])),
    poison,
    eventCount: allEvents.length,
    handlerFaults,
    duplicateVictims,
    schedule,
    chunks,
    poisonPerChunk: Math.ceil(poison.length / chunkCount),
    hostStopMs: options.lockDurationMs + 5_000,
  };
}

export function describePlan(plan: SoakPlan, options: SoakOptions): string {
  const faults = plan.schedule.map((f) => f.kind).join(', ') || 'none';
  return `soak seed ${String(options.seed)}: ${String(plan.baskets.length)} baskets in ${String(plan.chunks.length)} chunks, ${String(plan.poison.length)} poison, ${String(plan.duplicateVictims.length)} duplicates, ${String(plan.handlerFaults.length)} handler exceptions; faults ${faults}; lock ${String(options.lockDurationMs)} ms, outage ${String(options.outageMs)} ms`;
}
