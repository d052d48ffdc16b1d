/**
 * What the operator's console and the stuck-basket watchdog cost at 100,000 stored orders (not a test):
 * `npm run bench:console -- [--orders 100000] [--in-flight 0.1] [--stuck 0.5] [--runs 3]`.
 *
 * Loads Azurite (the orders through the real TableOrderStore, the in-flight index rows where the
 * convoy would put them, the basket counts, a few minutes of live-count slots, a quarantine) and the
 * emulator (dead letters of some stuck baskets), then times each console view and one watchdog tick
 * through their real handlers and adapters, and prints the rows each read. The fulfillment status of
 * Paid baskets comes over HTTP from the Durable extension stand-in used by the tests.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { ServiceBusClient } from '@azure/service-bus';
import { startAzurite } from '@convoy/dev-stack';
import { startEmulator } from '@convoy/servicebus-emulator';
import { receive } from '../src/domain/convoy';
import { eventIdFor, type EventEnvelope } from '../src/domain/events';
import type { OrderRecord } from '../src/domain/orderRecord';
import { inFlightRowOf } from '../src/domain/stuck';
import { orderStatuses } from '../src/domain/orderRecord';
import type { StatusCounts } from '../src/adapters/consolePorts';
import { fulfillmentStatusReaderFor } from '../src/adapters/durableFulfillmentStatus';
import { ServiceBusDeadLetterQueue } from '../src/adapters/serviceBusDeadLetters';
import { administrationClientFor, ServiceBusQueueBacklog } from '../src/adapters/serviceBusBacklog';
import { TableBasketListing } from '../src/adapters/tableBasketListing';
import { lazyTable, tableClientFor } from '../src/adapters/tableClient';
import { TableConsoleMetrics } from '../src/adapters/tableConsoleMetrics';
import { TableInFlightIndex } from '../src/adapters/tableInFlightIndex';
import { TableOrderStore } from '../src/adapters/tableOrderStore';
import { countRows } from '../src/adapters/tablePaging';
import { quarantinePartitionKey, TableQuarantineStore } from '../src/adapters/tableQuarantineStore';
import { makeConsoleBaskets } from '../src/functions/consoleBaskets';
import { makeConsoleOverview } from '../src/functions/consoleOverview';
import { makeConsoleStuck } from '../src/functions/consoleStuck';
import { makeConsoleTimeline } from '../src/functions/consoleTimeline';
import { makeStuckBasketWatchdog } from '../src/functions/stuckBasketWatchdog';
import { startDurableExtensionStub } from '../test/support/durableExtensionStub';

const { values: args } = parseArgs({
  options: {
    orders: { type: 'string', default: '100000' },
    'in-flight': { type: 'string', default: '0.1' },
    stuck: { type: 'string', default: '0.5' },
    'dead-lettered': { type: 'string', default: '100' },
    runs: { type: 'string', default: '3' },
  },
});
const orders = Number(args.orders);
const inFlightShare = Number(args['in-flight']);
const stuckShare = Number(args.stuck);
const deadLettered = Number(args['dead-lettered']);
const runs = Number(args.runs);
const thresholdMs = 300_000;
const bucketMs = 60_000;
const loadConcurrency = 48;

type Kind = 'fulfilled' | 'moving' | 'waiting' | 'blocked' | 'paid' | 'deadLettered';

/** Every `n`-th basket's kind: fulfilled, or in flight (moving, or stuck for one of four reasons). */
function kindOf(index: number): Kind {
  const inFlight = Math.round(orders * inFlightShare);
  if (index >= inFlight) return 'fulfilled';
  const stuck = Math.round(inFlight * stuckShare);
  if (index >= stuck) return 'moving';
  if (index < deadLettered) return 'deadLettered';
  return (['waiting', 'blocked', 'paid'] as const)[index % 3] ?? 'waiting';
}

function event(
  basketId: string,
  sequence: number,
  type: EventEnvelope['type'],
  data: unknown,
  at: string,
): EventEnvelope {
  return { basketId, sequence, eventId: eventIdFor(basketId, sequence), type, occurredAt: at, data } as EventEnvelope;
}

/** One record per kind, built by the convoy itself, for basket TEMPLATE; copies swap the id in. */
function template(kind: Kind, progressAt: string): OrderRecord {
  const id = 'TEMPLATE';
  const items = [1, 2, 3].map((n) =>
    event(id, n, 'ItemAdded', { sku: `SKU-${String(n)}`, quantity: n, unitPrice: 2.5 }, progressAt),
  );
  const checkout = event(id, 4, 'BasketCheckedOut', { currency: 'EUR' }, progressAt);
  const pay = event(id, 5, 'PaymentMade', { amount: 15, currency: 'EUR' }, progressAt);
  const done = event(id, 6, 'InventoryUpdated', { outcome: 'reserved' }, progressAt);
  const stream: Record<Kind, EventEnvelope[]> = {
    fulfilled: [...items, checkout, pay, done],
    moving: items,
    waiting: [items[0], items[2]].filter((e) => e !== undefined), // sequence 2 missing, 3 parked
    blocked: [...items, event(id, 4, 'PaymentMade', { amount: 1, currency: 'EUR' }, progressAt)],
    paid: [...items, checkout, pay],
    deadLettered: [items[0], items[2]].filter((e) => e !== undefined),
  };
  let record: OrderRecord | undefined;
  let n = 0;
  for (const e of stream[kind]) {
    n++;
    const delivery = {
      messageId: e.eventId,
      deliveryCount: 1,
      serviceSequenceNumber: String(n),
      receivedAt: progressAt,
    };
    record = receive(record, e, delivery, progressAt, { maxParkedEvents: 100 }).record;
  }
  if (record === undefined) throw new Error(`no record for ${kind}`);
  return record;
}

function basketIdOf(index: number): string {
  return `bench-${String(index).padStart(7, '0')}`;
}

async function inParallel(count: number, run: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: loadConcurrency }, async () => {
      while (next < count) {
        const index = next++;
        await run(index);
      }
    }),
  );
}

function request(url: string, query: Record<string, string> = {}, params: Record<string, string> = {}): HttpRequest {
  return new HttpRequest({ method: 'GET', url: `http://localhost/api/${url}`, query, params });
}

interface Measured {
  view: string;
  ms: number[];
  rowsRead: number;
  note: string;
}

async function measure(view: string, call: () => Promise<{ rowsRead: number; note: string }>): Promise<Measured> {
  const ms: number[] = [];
  let last = { rowsRead: 0, note: '' };
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    last = await call();
    ms.push(performance.now() - started);
  }
  return { view, ms, ...last };
}

function jsonOf(response: HttpResponseInit): Record<string, unknown> {
  if (response.status !== undefined && response.status !== 200) {
    throw new Error(`HTTP ${String(response.status)}: ${JSON.stringify(response.jsonBody)}`);
  }
  return JSON.parse(JSON.stringify(response.jsonBody)) as Record<string, unknown>;
}

type Azurite = Awaited<ReturnType<typeof startAzurite>>;
type Emulator = Awaited<ReturnType<typeof startEmulator>>;
type DurableStub = Awaited<ReturnType<typeof startDurableExtensionStub>>;

/** The app's stores over Azurite, as the functions build them. */
function storesOn(azurite: Azurite) {
  const connection = { kind: 'connectionString' as const, connectionString: azurite.connectionString };
  return {
    connection,
    orderStore: new TableOrderStore(tableClientFor(connection, 'orders')),
    index: new TableInFlightIndex(tableClientFor(connection, 'inflight')),
    metrics: new TableConsoleMetrics(tableClientFor(connection, 'consolemetrics')),
    quarantine: new TableQuarantineStore(tableClientFor(connection, 'quarantine')),
  };
}
type Stores = ReturnType<typeof storesOn>;

/** Stores every order (and its in-flight index row), fails half the Paid baskets' fulfillments; returns the counts. */
async function loadOrders(stores: Stores, durable: DurableStub, nowMs: number): Promise<StatusCounts> {
  const stuckAt = new Date(nowMs - 3_600_000).toISOString();
  const recentAt = new Date(nowMs - 30_000).toISOString();
  const templates = new Map<Kind, string>();
  const counts: StatusCounts = { Open: 0, CheckedOut: 0, Paid: 0, Fulfilled: 0, Backordered: 0, Blocked: 0 };
  await inParallel(orders, async (i) => {
    const kind = kindOf(i);
    const at = kind === 'moving' ? recentAt : stuckAt;
    let json = templates.get(kind);
    if (json === undefined) {
      json = JSON.stringify(template(kind, at));
      templates.set(kind, json);
    }
    const record = JSON.parse(json.replaceAll('TEMPLATE', basketIdOf(i))) as OrderRecord;
    counts[record.status]++;
    await stores.orderStore.create(record);
    const row = inFlightRowOf(record, bucketMs);
    if (row !== undefined) await stores.index.put(row);
    if (kind === 'paid' && i % 2 === 0) {
      durable.instances.set(`fulfill-${record.basketId}`, {
        name: 'fulfillOrder',
        runtimeStatus: 'Failed',
        input: null,
      });
    }
  });
  await stores.metrics.addStatusCounts(counts);
  return counts;
}

/** The dead letters of the first baskets (their sequence 2). */
async function seedDeadLetters(sb: ServiceBusClient): Promise<void> {
  const sender = sb.createSender('order-events');
  for (let i = 0; i < deadLettered; i++) {
    const basketId = basketIdOf(i);
    await sender.sendMessages({
      body: { basketId, sequence: 2 },
      sessionId: basketId,
      messageId: eventIdFor(basketId, 2),
    });
    const receiver = await sb.acceptSession('order-events', basketId);
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
    if (message !== undefined)
      await receiver.deadLetterMessage(message, {
        deadLetterReason: 'MaxDeliveryCountExceeded',
        deadLetterErrorDescription: 'bench',
      });
    await receiver.close();
  }
  await sender.close();
}

/** A small quarantine, and five minutes of live counts from four instances, as their flushes would have left them. */
async function seedQuarantineAndSlots(stores: Stores, nowMs: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await stores.quarantine.add({
      messageId: `poison-${String(i)}`,
      reason: 'no basket id',
      body: '{}',
      deliveryCount: 1,
      serviceSequenceNumber: String(i),
      quarantinedAt: new Date(nowMs).toISOString(),
    });
  }
  const slotsAt = Date.now();
  for (let slot = 0; slot < 30; slot++) {
    for (let instance = 0; instance < 4; instance++) {
      await stores.metrics.writeSlot({
        slot: new Date(Math.floor((slotsAt - slot * 10_000) / 10_000) * 10_000).toISOString(),
        instanceId: `instance-${String(instance)}`,
        applied: 500,
        latency: { '70': 400, '80': 90, '95': 10 },
        heldCalls: 0,
        flushedAt: new Date(slotsAt).toISOString(),
      });
    }
  }
}

/** The console's handlers and the watchdog, wired to the real adapters as src/functions wires them. */
function consoleHandlers(stores: Stores, sb: ServiceBusClient, emulator: Emulator, durable: DurableStub) {
  const { connection, orderStore, index, metrics, quarantine } = stores;
  const context = durable.contextFor('console');
  const deadLetters = new ServiceBusDeadLetterQueue(() => sb, 'order-events');
  const admin = administrationClientFor({ kind: 'connectionString', connectionString: emulator.connectionString });
  const scan = {
    inFlightIndex: () => index,
    orderStore: () => orderStore,
    deadLetters: () => deadLetters,
    quarantineStore: () => quarantine,
    now: () => new Date(),
    stuckThresholdMs: () => thresholdMs,
    bucketMs: () => bucketMs,
    fulfillmentStatusFor: () => fulfillmentStatusReaderFor(context),
  };
  const quarantineRows = lazyTable(tableClientFor(connection, 'quarantine'));
  return {
    context,
    overview: makeConsoleOverview({
      metrics: () => metrics,
      backlog: () => new ServiceBusQueueBacklog(() => admin, 'order-events'),
      inFlightIndex: () => index,
      quarantineCount: (cap) => countRows(quarantineRows, `PartitionKey eq '${quarantinePartitionKey}'`, cap),
      now: () => new Date(),
      stuckThresholdMs: () => thresholdMs,
    }),
    stuck: makeConsoleStuck(scan),
    baskets: makeConsoleBaskets({
      basketListing: () => new TableBasketListing(tableClientFor(connection, 'orders')),
    }),
    timeline: makeConsoleTimeline(scan),
    watchdog: makeStuckBasketWatchdog({ ...scan, metrics: () => metrics }),
  };
}

const rows = (body: Record<string, unknown>): number => Number(body.rowsRead);
const items = (body: Record<string, unknown>): string => `${String((body.items as unknown[]).length)} items`;

/** The basket list: its first page, the page after it (through the continuation), and one status. */
async function measureBasketPages(
  baskets: ReturnType<typeof consoleHandlers>['baskets'],
  silent: InvocationContext,
): Promise<Measured[]> {
  const results: Measured[] = [];
  let continuation = '';
  results.push(
    await measure('GET /api/console/baskets?limit=50', async () => {
      const body = jsonOf(await baskets(request('console/baskets', { limit: '50' }), silent));
      continuation = String(body.continuation);
      return { rowsRead: rows(body), note: items(body) };
    }),
  );
  results.push(
    await measure('GET /api/console/baskets?limit=50&continuation=…', async () => {
      const body = jsonOf(await baskets(request('console/baskets', { limit: '50', continuation }), silent));
      return { rowsRead: rows(body), note: items(body) };
    }),
  );
  results.push(
    await measure('GET /api/console/baskets?status=Blocked&limit=50', async () => {
      const body = jsonOf(await baskets(request('console/baskets', { status: 'Blocked', limit: '50' }), silent));
      return { rowsRead: rows(body), note: items(body) };
    }),
  );
  return results;
}

/** Times one watchdog tick and each console view, in the order the table prints them. */
async function measureAll(handlers: ReturnType<typeof consoleHandlers>): Promise<Measured[]> {
  const { context, overview, stuck, baskets, timeline, watchdog } = handlers;
  const silent = new InvocationContext({ functionName: 'bench', logHandler: () => undefined });
  const results: Measured[] = [];
  results.push(
    await measure('watchdog tick (all candidates, ≤ 5,000)', async () => {
      const tick = await watchdog({ isPastDue: false, scheduleStatus: undefined } as never, silent);
      return {
        rowsRead: tick.rowsRead,
        note: `${String(tick.stuck.length)} stuck, complete=${String(tick.complete)}`,
      };
    }),
  );
  results.push(
    await measure('GET /api/console/overview', async () => {
      const body = jsonOf(await overview(request('console/overview'), silent));
      return { rowsRead: rows(body), note: `stuckBaskets=${String(body.stuckBaskets)}` };
    }),
  );
  results.push(
    await measure('GET /api/console/stuck?limit=50', async () => {
      const body = jsonOf(await stuck(request('console/stuck', { limit: '50' }), context));
      return { rowsRead: rows(body), note: items(body) };
    }),
  );
  results.push(...(await measureBasketPages(baskets, silent)));
  results.push(
    await measure('GET /api/console/baskets/{id}/timeline', async () => {
      const basketId = basketIdOf(0);
      const body = jsonOf(await timeline(request(`console/baskets/${basketId}/timeline`, {}, { basketId }), context));
      return { rowsRead: rows(body), note: `${String((body.entries as unknown[]).length)} entries` };
    }),
  );
  return results;
}

function report(counts: StatusCounts, loadMs: number, seedMs: number, results: readonly Measured[]): void {
  const inFlight = orderStatuses
    .filter((s) => s !== 'Fulfilled' && s !== 'Backordered')
    .reduce((sum, s) => sum + counts[s], 0);
  console.log(
    `bench:console — ${String(orders)} orders (${String(inFlight)} in flight, ${String(Math.round(orders * inFlightShare * stuckShare))} stuck, ${String(deadLettered)} with a dead letter); loaded in ${(loadMs / 1000).toFixed(1)} s (+${(seedMs / 1000).toFixed(1)} s dead letters, quarantine, slots)`,
  );
  console.log(`threshold ${String(thresholdMs / 1000)} s, ${String(runs)} runs each; time = median (min–max) ms`);
  console.log('| view | time ms | rows read | |');
  console.log('| --- | --- | --- | --- |');
  for (const result of results) {
    const sorted = [...result.ms].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    console.log(
      `| ${result.view} | ${median.toFixed(0)} (${(sorted[0] ?? 0).toFixed(0)}–${(sorted.at(-1) ?? 0).toFixed(0)}) | ${String(result.rowsRead)} | ${result.note} |`,
    );
  }
}

async function main(): Promise<void> {
  const [azurite, emulator, durable] = await Promise.all([
    startAzurite(),
    startEmulator(),
    startDurableExtensionStub(),
  ]);
  const sb = new ServiceBusClient(emulator.connectionString);
  try {
    const stores = storesOn(azurite);
    const nowMs = Date.now();
    const started = performance.now();
    const counts = await loadOrders(stores, durable, nowMs);
    const loadMs = performance.now() - started;
    await seedDeadLetters(sb);
    await seedQuarantineAndSlots(stores, nowMs);
    const seedMs = performance.now() - started - loadMs;
    const results = await measureAll(consoleHandlers(stores, sb, emulator, durable));
    report(counts, loadMs, seedMs, results);
  } finally {
    await sb.close();
    await Promise.all([azurite.close(), emulator.close(), durable.close()]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
