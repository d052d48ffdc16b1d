import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpRequest, InvocationContext } from '@azure/functions';
import type { TableClient } from '@azure/data-tables';
import { ConsoleProjection } from '../../../src/adapters/consoleProjection';
import type { FulfillmentStatusReader, InFlightIndex } from '../../../src/adapters/consolePorts';
import { LiveMetrics } from '../../../src/adapters/liveMetrics';
import { TableBasketListing } from '../../../src/adapters/tableBasketListing';
import { tableClientFor } from '../../../src/adapters/tableClient';
import { TableConsoleMetrics } from '../../../src/adapters/tableConsoleMetrics';
import { TableInFlightIndex } from '../../../src/adapters/tableInFlightIndex';
import type { InFlightRow } from '../../../src/domain/stuck';
import { makeConsoleBaskets } from '../../../src/functions/consoleBaskets';
import { makeConsoleOverview } from '../../../src/functions/consoleOverview';
import { makeConsoleStuck } from '../../../src/functions/consoleStuck';
import { makeConsoleTimeline } from '../../../src/functions/consoleTimeline';
import { makeProcessOrderEvent, type ProcessOrderEventHandler } from '../../../src/functions/processOrderEvent';
import { makeStuckBasketWatchdog } from '../../../src/functions/stuckBasketWatchdog';
import { InMemoryDeadLetterQueue } from '../../support/fakes';
import { inventoryReserved, paidBasket, wireEvent } from './support/basket';
import { maxParkedEvents, startConvoyHarness, type ConvoyHarness } from './support/convoyHarness';

/**
 * The console's backend over the REAL Table adapters on Azurite: the convoy's handler with the
 * in-flight index and live counts attached, then the console views and the watchdog reading what it
 * wrote. Ports without a local component here (the dead-letter queue, the orchestration status) are
 * in-memory fakes; test/int/adapters covers them on the emulator.
 */

const thresholdMs = 60_000;
const bucketMs = 12_000;

/** The real index, with every write it is asked to make recorded (and one put failing on demand). */
class RecordedIndex implements InFlightIndex {
  readonly writes: string[] = [];
  failNextPut = false;
  constructor(private readonly inner: InFlightIndex) {}
  put(row: InFlightRow): Promise<void> {
    this.writes.push(`put ${row.basketId}@${row.bucket}`);
    if (this.failNextPut) {
      this.failNextPut = false;
      return Promise.reject(new Error('index put failed (injected)'));
    }
    return this.inner.put(row);
  }
  drop(bucket: string, basketId: string): Promise<void> {
    this.writes.push(`drop ${basketId}@${bucket}`);
    return this.inner.drop(bucket, basketId);
  }
  candidates(cutoff: string, limit: number, continuation?: string) {
    return this.inner.candidates(cutoff, limit, continuation);
  }
  countCandidates(cutoff: string, cap: number) {
    return this.inner.countCandidates(cutoff, cap);
  }
}

function get(url: string, query: Record<string, string> = {}, params: Record<string, string> = {}): HttpRequest {
  return new HttpRequest({ method: 'GET', url: `http://127.0.0.1:7071/api/${url}`, query, params });
}

function contextFor(name: string, lines: string[] = []): InvocationContext {
  return new InvocationContext({
    functionName: name,
    invocationId: name,
    logHandler: (level, ...args) => lines.push(`${level} ${args.map(String).join(' ')}`),
  });
}

function body(response: { jsonBody?: unknown }): Record<string, unknown> {
  const parsed: unknown = JSON.parse(JSON.stringify(response.jsonBody));
  assert.ok(typeof parsed === 'object' && parsed !== null);
  return parsed as Record<string, unknown>;
}

describe('console backend over Azurite', () => {
  let h: ConvoyHarness;
  let index: RecordedIndex;
  let rawIndex: TableClient;
  let metrics: TableConsoleMetrics;
  let live: LiveMetrics;
  let handler: ProcessOrderEventHandler;
  const deadLetters = new InMemoryDeadLetterQueue();
  const fulfillment: FulfillmentStatusReader = {
    status: (basketId) =>
      Promise.resolve(
        basketId === 'paid-failed'
          ? { instanceId: `fulfill-${basketId}`, runtimeStatus: 'Failed', steps: [] }
          : undefined,
      ),
  };

  const scanDeps = () => ({
    inFlightIndex: () => index,
    orderStore: () => h.orders,
    deadLetters: () => deadLetters,
    quarantineStore: () => h.quarantine,
    now: h.clock.now,
    stuckThresholdMs: () => thresholdMs,
    bucketMs: () => bucketMs,
    fulfillmentStatusFor: () => fulfillment,
  });

  const send = async (events: readonly Record<string, unknown>[]) => {
    for (const event of events) await h.deliver(h.send(event), handler);
  };

  before(async () => {
    h = await startConvoyHarness();
    rawIndex = tableClientFor(h.connection, 'inflight');
    index = new RecordedIndex(new TableInFlightIndex(rawIndex));
    metrics = new TableConsoleMetrics(tableClientFor(h.connection, 'consolemetrics'));
    live = new LiveMetrics(() => metrics, h.clock.now, 'instance-1');
    const projection = new ConsoleProjection(
      () => index,
      live,
      () => bucketMs,
    );
    handler = makeProcessOrderEvent({
      orderStore: () => h.orders,
      quarantineStore: () => h.quarantine,
      fulfillmentStarterFor: () => h.fulfillment,
      now: h.clock.now,
      maxParkedEvents: () => maxParkedEvents,
      progress: () => projection,
    });

    // Fulfilled: in, through, out of the index.
    await send([...paidBasket('done'), inventoryReserved('done')]);
    // Waiting for sequence 3, with 4 parked behind it.
    await send(paidBasket('gap').filter((event) => event.sequence !== 3));
    // Blocked by a payment that does not match the total.
    await send([
      wireEvent('blocked', 1, 'ItemAdded', { sku: 'SKU-1', quantity: 1, unitPrice: 9.5 }),
      wireEvent('blocked', 2, 'BasketCheckedOut', { currency: 'EUR' }),
      wireEvent('blocked', 3, 'PaymentMade', { amount: 1, currency: 'EUR' }),
    ]);
    // Sequence 2 dead-lettered by the broker.
    await send([paidBasket('dead')[0] ?? {}]);
    deadLetters.add(
      {
        serviceSequenceNumber: '7',
        messageId: 'dead:2',
        sessionId: 'dead',
        sequence: 2,
        type: 'ItemAdded',
        reason: 'MaxDeliveryCountExceeded',
        description: 'Message could not be consumed after 10 delivery attempts.',
        deliveryCount: 10,
      },
      paidBasket('dead')[1],
    );
    // Paid, and its fulfillment failed.
    await send(paidBasket('paid-failed'));
  });

  after(async () => {
    live.stop();
    await h.close();
  });

  it('writes the index on transitions only: a start, a bucket crossing, the end — not per event', () => {
    const forDone = index.writes.filter((write) => write.includes(' done@'));
    // 5 events over 5 s inside one 12 s bucket (or two): a put at the start, at most one move, a drop at the end.
    assert.ok(forDone.length >= 2 && forDone.length <= 4, forDone.join('\n'));
    assert.match(forDone[0] ?? '', /^put done@/);
    assert.match(forDone.at(-1) ?? '', /^drop done@/);
    assert.ok(
      index.writes.length < 22,
      `22 events, ${String(index.writes.length)} index writes:\n${index.writes.join('\n')}`,
    );
  });

  it('lists every stuck basket with the reason in words, once the threshold has passed', async () => {
    const stuck = makeConsoleStuck(scanDeps());
    const early = body(await stuck(get('console/stuck'), contextFor('consoleStuck')));
    assert.deepEqual(early.items, [], 'nothing is stuck before the threshold');

    h.clock.advance(thresholdMs + bucketMs);
    const answer = body(await stuck(get('console/stuck', { limit: '50' }), contextFor('consoleStuck')));
    const items = answer.items as { basketId: string; reason: { code: string; text: string }; actions: unknown[] }[];
    const reasons: Record<string, { code: string; text: string } | undefined> = Object.fromEntries(
      items.map((item) => [item.basketId, item.reason]),
    );
    assert.deepEqual(Object.keys(reasons).sort(), ['blocked', 'dead', 'gap', 'paid-failed']);
    assert.deepEqual(reasons.gap, {
      code: 'waiting-for-sequence',
      text: 'Waiting for sequence 3; sequence 4 parked behind it.',
      sequence: 3,
      parkedSequences: [4],
    });
    assert.equal(reasons.dead?.code, 'dead-lettered');
    assert.match(
      reasons.dead.text,
      /Sequence 2 is in the dead-letter queue \(MaxDeliveryCountExceeded: Message could not/,
    );
    assert.equal(reasons.blocked?.code, 'blocked');
    assert.match(
      reasons.blocked.text,
      /^Blocked: .*PaymentMade of 1\.00 EUR does not equal the basket total of 9\.50 EUR/,
    );
    assert.equal(reasons['paid-failed']?.code, 'fulfillment-failed');
    const dead = items.find((item) => item.basketId === 'dead');
    assert.deepEqual(dead?.actions, [
      { label: 'Replay its dead letters', method: 'POST', href: '/api/dead-letters/dead/replay' },
    ]);
    assert.equal(typeof answer.rowsRead, 'number');
  });

  it('pages: limit bounds the rows read, the continuation leads to the rest, each basket once', async () => {
    const stuck = makeConsoleStuck(scanDeps());
    const seen: string[] = [];
    let continuation: string | undefined;
    let pages = 0;
    do {
      const query: Record<string, string> = { limit: '1', ...(continuation === undefined ? {} : { continuation }) };
      const page = body(await stuck(get('console/stuck', query), contextFor('consoleStuck')));
      assert.ok((page.candidates as number) <= 1);
      seen.push(...(page.items as { basketId: string }[]).map((item) => item.basketId));
      continuation = page.continuation as string | undefined;
      pages++;
    } while (continuation !== undefined && pages < 20);
    assert.deepEqual(seen.sort(), ['blocked', 'dead', 'gap', 'paid-failed']);

    const bad = await stuck(get('console/stuck', { continuation: 'not-a-token' }), contextFor('consoleStuck'));
    assert.equal(bad.status, 400);
  });

  it('the watchdog logs one line per stuck basket and the tick line of the contract, and records the tick', async () => {
    await live.flush();
    const lines: string[] = [];
    const watchdog = makeStuckBasketWatchdog({ ...scanDeps(), metrics: () => metrics });
    const tick = await watchdog(
      { isPastDue: false, scheduleStatus: undefined } as never,
      contextFor('stuckBasketWatchdog', lines),
    );
    assert.equal(tick.stuck.length, 4);
    assert.ok(
      lines.includes(
        'warning stuckBasketWatchdog stuck basketId=gap status=Open reason=waiting-for-sequence Waiting for sequence 3; sequence 4 parked behind it.',
      ),
      lines.join('\n'),
    );
    const tickLine = lines.find((line) => line.includes('stuckBasketWatchdog tick'));
    assert.match(tickLine ?? '', /^information stuckBasketWatchdog tick stuckBaskets=4 inFlight=4 rowsRead=\d+$/);
    assert.equal((await metrics.readWatchdogSummary())?.stuckBaskets, 4);
  });

  it('repairs an index row the crash between the two writes left behind', async () => {
    // The order is saved, the index put fails: the call fails and the message comes back.
    index.failNextPut = true;
    const first = h.send(wireEvent('crash', 1, 'ItemAdded', { sku: 'SKU-1', quantity: 1, unitPrice: 1 }));
    await assert.rejects(h.deliver(first, handler), /index put failed/);
    const rowsOf = async () => {
      const rows: string[] = [];
      for await (const row of rawIndex.listEntities({ queryOptions: { filter: "RowKey eq 'crash'" } }))
        rows.push(String(row.partitionKey));
      return rows;
    };
    assert.deepEqual(await rowsOf(), [], 'no row yet: the put failed after the order was saved');
    // The redelivery is a duplicate for the order, and puts the row again.
    await h.deliver(h.redelivery(first), handler);
    assert.equal((await rowsOf()).length, 1);

    // A stale row (the order moved on without it) is moved by the scan to where the order says.
    await index.put({
      bucket: '2026-01-01T00:00:00.000Z',
      basketId: 'crash',
      status: 'Open',
      lastProgressAt: '2026-01-01T00:00:00.000Z',
      lastAppliedSequence: 0,
    });
    await makeConsoleStuck(scanDeps())(get('console/stuck'), contextFor('consoleStuck'));
    const after = await rowsOf();
    assert.equal(after.length, 1);
    assert.notEqual(after[0], '2026-01-01T00:00:00.000Z');
  });

  it('counts a call held through a transient failure while it is held, and not after', async () => {
    let failGet = true;
    const flaky = {
      get: (basketId: string) => {
        if (!failGet) return h.orders.get(basketId);
        failGet = false;
        return Promise.reject(new Error('ECONNRESET (injected)'));
      },
      create: (record: Parameters<typeof h.orders.create>[0]) => h.orders.create(record),
      replace: (record: Parameters<typeof h.orders.replace>[0], etag: string) => h.orders.replace(record, etag),
    };
    const heldDuringHold: number[] = [];
    const holding = makeProcessOrderEvent({
      orderStore: () => flaky,
      quarantineStore: () => h.quarantine,
      fulfillmentStarterFor: () => h.fulfillment,
      now: h.clock.now,
      maxParkedEvents: () => maxParkedEvents,
      transientRetry: () => ({ firstDelayMs: 1, maxDelayMs: 1, holdBudgetMs: 10_000 }),
      clock: {
        nowMs: () => Date.now(),
        sleep: () => {
          heldDuringHold.push(live.heldCalls);
          return Promise.resolve();
        },
        random: () => 0,
      },
      callHeld: () => live.callHeld(),
    });
    await h.deliver(h.send(wireEvent('held', 1, 'ItemAdded', { sku: 'SKU-1', quantity: 1, unitPrice: 1 })), holding);
    assert.deepEqual(heldDuringHold, [1]);
    assert.equal(live.heldCalls, 0);
    assert.ok(h.logs.some((log) => log.line.includes('outcome=held')));
  });

  it('overview: basket counts from the flushed deltas, applied rate and latency, stuck count', async () => {
    await live.flush();
    const overview = makeConsoleOverview({
      metrics: () => metrics,
      backlog: () => ({ read: () => Promise.reject(new Error('no broker in this test')) }),
      inFlightIndex: () => index,
      quarantineCount: () => Promise.resolve({ count: 0, capped: false }),
      now: h.clock.now,
      stuckThresholdMs: () => thresholdMs,
    });
    const answer = body(await overview(get('console/overview'), contextFor('consoleOverview')));
    assert.deepEqual(answer.basketsByStatus, {
      Open: 3,
      CheckedOut: 0,
      Paid: 1,
      Fulfilled: 1,
      Backordered: 0,
      Blocked: 1,
    });
    assert.equal(answer.stuckBaskets, 4);
    assert.equal(answer.heldCalls, 0);
    // The bodies say they were published at 08:00, applied from 09:00: about an hour, within the 10% buckets.
    const latency = answer.latencyMs as { p50: number; p99: number; windowSeconds: number };
    assert.ok(
      latency.p50 > 3_300_000 && latency.p50 <= latency.p99 && latency.p99 < 4_100_000,
      JSON.stringify(latency),
    );
    assert.equal(latency.windowSeconds, 300);
    assert.equal(answer.quarantined, 0);
    const backlog = answer.backlog as Record<string, unknown>;
    assert.equal(backlog.active, null);
    assert.ok((answer.warnings as string[]).some((w) => w.includes('queue backlog')));
  });

  it("baskets by status from the plain columns, paged; the timeline tells one basket's story", async () => {
    const baskets = makeConsoleBaskets({
      basketListing: () => new TableBasketListing(tableClientFor(h.connection, 'orders')),
    });
    const open = body(await baskets(get('console/baskets', { status: 'Open' }), contextFor('consoleBaskets')));
    assert.deepEqual((open.items as { basketId: string }[]).map((item) => item.basketId).sort(), [
      'crash',
      'dead',
      'gap',
      'held',
    ]);
    const first = body(await baskets(get('console/baskets', { limit: '2' }), contextFor('consoleBaskets')));
    assert.equal((first.items as unknown[]).length, 2);
    assert.equal(typeof first.continuation, 'string');
    const wrong = await baskets(get('console/baskets', { status: 'Lost' }), contextFor('consoleBaskets'));
    assert.equal(wrong.status, 400);

    const timeline = makeConsoleTimeline({ ...scanDeps() });
    const story = body(
      await timeline(get('console/baskets/gap/timeline', {}, { basketId: 'gap' }), contextFor('consoleTimeline')),
    );
    const entries = story.entries as { kind: string; sequence?: number }[];
    assert.deepEqual(
      entries
        .filter((entry) => entry.kind !== 'published' && entry.kind !== 'enqueued')
        .map((entry) => `${entry.kind} ${String(entry.sequence)}`),
      ['applied 1', 'applied 2', 'parked 4'],
    );
    const done = body(
      await timeline(get('console/baskets/done/timeline', {}, { basketId: 'done' }), contextFor('consoleTimeline')),
    );
    assert.equal(done.status, 'Fulfilled');
    assert.deepEqual(done.reserved, [
      { sku: 'SKU-1', quantity: 2 },
      { sku: 'SKU-2', quantity: 1 },
    ]);
  });
});
