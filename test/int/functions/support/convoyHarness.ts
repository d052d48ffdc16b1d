import { TableClient } from '@azure/data-tables';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { startAzurite, type AzuriteHandle } from '@convoy/dev-stack';
import { OrderCache } from '../../../../src/adapters/orderCache';
import { defaultRetrySchedule, type RetryClock } from '../../../../src/application/holdAndRetry';
import type { DeadLetterQueue, OrderStore, QuarantineStore } from '../../../../src/adapters/ports';
import { tableClientFor } from '../../../../src/adapters/tableClient';
import { TableOrderStore } from '../../../../src/adapters/tableOrderStore';
import { TableQuarantineStore } from '../../../../src/adapters/tableQuarantineStore';
import type { TableConnectionConfig } from '../../../../src/config';
import { orderCacheLimits } from '../../../../src/dependencies';
import { eventIdFor } from '../../../../src/domain/events';
import { makeGetOrder } from '../../../../src/functions/getOrder';
import { makeListQuarantine } from '../../../../src/functions/listQuarantine';
import { makeProcessOrderEvent, type ProcessOrderEventHandler } from '../../../../src/functions/processOrderEvent';
import { InMemoryDeadLetterQueue, ManualClock, RecordingFulfillmentStarter } from '../../../support/fakes';
import assert from 'node:assert/strict';
import { orderViewContract, type OrderViewContract } from './basket';
import { basketIdOf, invocationFor, type Delivery, type LogLine } from './serviceBusDelivery';

/**
 * The app's handlers wired to the REAL Table adapters on a real Azurite; only the fulfillment
 * starter (a port onto the Durable extension) is a recording fake. `send` plays the broker (it
 * assigns sequence numbers and enqueue times), `deliver` plays the host invoking the function.
 */

export const maxParkedEvents = 5;

export interface HttpAnswer {
  status: number;
  contentType: string | undefined;
  body: unknown;
}

export interface ConvoyHarness {
  azurite: AzuriteHandle;
  connection: TableConnectionConfig;
  orders: OrderStore;
  quarantine: QuarantineStore;
  fulfillment: RecordingFulfillmentStarter;
  clock: ManualClock;
  logs: LogLine[];
  /** The handler exactly as the app builds it, over the real stores. */
  handler: ProcessOrderEventHandler;
  /**
   * The same handler over other stores (a decorated one that interleaves calls, or a dead endpoint),
   * with its own order cache as another instance would have; `cached: false` reads before every save.
   */
  handlerWith(orders: OrderStore, quarantine?: QuarantineStore, options?: HandlerOptions): ProcessOrderEventHandler;
  /** Enqueues a body: the first delivery of a new broker message. */
  send(body: unknown, overrides?: Partial<Delivery>): Delivery;
  /** The host invoking processOrderEvent for a delivery (1 s after the previous one). */
  deliver(delivery: Delivery, handler?: ProcessOrderEventHandler): Promise<void>;
  /** The same message again after an abandon or lost lock. */
  redelivery(delivery: Delivery): Delivery;
  /**
   * GET /api/orders/{basketId} through the real getOrder handler (over `store`, default the real one).
   * No broker here: the dead-letter queue is an empty in-memory one unless one is given.
   */
  getOrder(basketId: string, store?: OrderStore, deadLetters?: DeadLetterQueue): Promise<HttpAnswer>;
  /** GET /api/quarantine through the real listQuarantine handler. */
  listQuarantine(limit?: number, store?: QuarantineStore): Promise<HttpAnswer>;
  close(): Promise<void>;
}

function contentTypeOf(headers: unknown): string | undefined {
  if (typeof headers !== 'object' || headers === null || !('content-type' in headers)) return undefined;
  return typeof headers['content-type'] === 'string' ? headers['content-type'] : undefined;
}

async function answer(
  response: Promise<{ status?: number; headers?: unknown; jsonBody?: unknown }>,
): Promise<HttpAnswer> {
  const { status, headers, jsonBody } = await response;
  // Through JSON, as the host would put it on the wire.
  const body: unknown = jsonBody === undefined ? undefined : JSON.parse(JSON.stringify(jsonBody));
  return { status: status ?? 200, contentType: contentTypeOf(headers), body };
}

function httpContext(functionName: string, logs: LogLine[]): InvocationContext {
  return new InvocationContext({
    functionName,
    invocationId: `${functionName}-${String(logs.length)}`,
    logHandler: (level, ...args) => logs.push({ level, line: args.map(String).join(' ') }),
  });
}

/** Stores over a given connection (the same Azurite, or a dead endpoint). */
export function storesFor(connection: TableConnectionConfig): { orders: OrderStore; quarantine: QuarantineStore } {
  return {
    orders: new TableOrderStore(tableClientFor(connection, 'orders')),
    quarantine: new TableQuarantineStore(tableClientFor(connection, 'quarantine')),
  };
}

/**
 * Stores whose clients give up at once instead of retrying with the SDK's backoff (about 6 s per
 * failed call), so outage tests stay fast; everything else is the production adapter.
 */
export function failFastStoresFor(connectionString: string): { orders: OrderStore; quarantine: QuarantineStore } {
  const client = (table: string) =>
    TableClient.fromConnectionString(connectionString, table, {
      allowInsecureConnection: true,
      retryOptions: { maxRetries: 0 },
    });
  return { orders: new TableOrderStore(client('orders')), quarantine: new TableQuarantineStore(client('quarantine')) };
}

export interface HandlerOptions {
  /** false: read before every save (no order cache). */
  cached?: boolean;
  /** Hold transient failures as the app does (TRANSIENT_HOLD_SECONDS), on this clock; absent = throw at once. */
  hold?: { budgetMs: number; clock: RetryClock };
}

export async function startConvoyHarness(): Promise<ConvoyHarness> {
  const azurite = await startAzurite();
  const connection: TableConnectionConfig = { kind: 'connectionString', connectionString: azurite.connectionString };
  const { orders, quarantine } = storesFor(connection);
  const fulfillment = new RecordingFulfillmentStarter();
  const clock = new ManualClock('2026-03-01T09:00:00.000Z');
  const logs: LogLine[] = [];
  let brokerSequence = 1000;

  // Each handler has its own order cache, as each instance of the app does.
  const handlerWith = (
    store: OrderStore,
    quarantineStore = quarantine,
    { cached = true, hold }: HandlerOptions = {},
  ): ProcessOrderEventHandler => {
    const cache = new OrderCache(orderCacheLimits);
    return makeProcessOrderEvent({
      orderStore: () => store,
      ...(cached ? { orderCache: () => cache } : {}),
      quarantineStore: () => quarantineStore,
      fulfillmentStarterFor: () => fulfillment,
      now: clock.now,
      maxParkedEvents: () => maxParkedEvents,
      ...(hold === undefined
        ? {}
        : {
            transientRetry: () => ({ ...defaultRetrySchedule, holdBudgetMs: hold.budgetMs }),
            clock: hold.clock,
          }),
    });
  };
  const handler = handlerWith(orders);

  return {
    azurite,
    connection,
    orders,
    quarantine,
    fulfillment,
    clock,
    logs,
    handler,
    handlerWith,
    send(body, overrides = {}) {
      brokerSequence += 1;
      const basketId = basketIdOf(body);
      const sequence =
        typeof body === 'object' && body !== null && 'sequence' in body && typeof body.sequence === 'number'
          ? body.sequence
          : undefined;
      const type = typeof body === 'object' && body !== null && 'type' in body ? String(body.type) : undefined;
      return {
        body,
        messageId:
          basketId !== undefined && sequence !== undefined
            ? eventIdFor(basketId, sequence)
            : `m-${String(brokerSequence)}`,
        deliveryCount: 1,
        sequenceNumber: brokerSequence,
        enqueuedTimeUtc: clock.now(),
        ...(basketId === undefined || sequence === undefined || type === undefined
          ? {}
          : { subject: type, applicationProperties: { eventType: type, sequence, basketId } }),
        ...overrides,
      };
    },
    async deliver(delivery, chosen = handler) {
      clock.advance(1000);
      const { message, context } = await invocationFor(delivery, logs);
      await chosen(message, context);
    },
    redelivery: (delivery) => ({ ...delivery, deliveryCount: delivery.deliveryCount + 1 }),
    getOrder: (basketId, store = orders, deadLetters = new InMemoryDeadLetterQueue()) =>
      answer(
        makeGetOrder({ orderStore: () => store, deadLetters: () => deadLetters })(
          new HttpRequest({
            method: 'GET',
            url: `http://127.0.0.1:7071/api/orders/${encodeURIComponent(basketId)}`,
            params: { basketId },
          }),
          httpContext('getOrder', logs),
        ),
      ),
    listQuarantine: (limit, store = quarantine) =>
      answer(
        makeListQuarantine({ quarantineStore: () => store })(
          new HttpRequest({
            method: 'GET',
            url: `http://127.0.0.1:7071/api/quarantine${limit === undefined ? '' : `?limit=${String(limit)}`}`,
            ...(limit === undefined ? {} : { query: { limit: String(limit) } }),
          }),
          httpContext('listQuarantine', logs),
        ),
      ),
    close: () => azurite.close(),
  };
}

/** GET /api/orders/{basketId} through the real handler, asserted 200 and parsed against the HTTP contract. */
export async function orderView(h: ConvoyHarness, basketId: string): Promise<OrderViewContract> {
  const answer = await h.getOrder(basketId);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return orderViewContract.parse(answer.body);
}
