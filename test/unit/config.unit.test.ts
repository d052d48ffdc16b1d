import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config';
import { maxEventsPerBasket } from '../../src/domain/recordBudget';

/** Settings validated once, failing with the setting's name (src/config.ts). */

const local = {
  ServiceBusConnection: 'Endpoint=sb://127.0.0.1;SharedAccessKeyName=k;SharedAccessKey=s;UseDevelopmentEmulator=true',
  OrderStoreConnection: 'UseDevelopmentStorage=true',
  ORDER_EVENTS_QUEUE: 'order-events',
};

describe('config', () => {
  it('reads connection strings and fills the documented defaults', () => {
    assert.deepEqual(parseConfig(local), {
      serviceBus: { kind: 'connectionString', connectionString: local.ServiceBusConnection },
      orderEventsQueue: 'order-events',
      orderStore: { kind: 'connectionString', connectionString: 'UseDevelopmentStorage=true' },
      ordersTable: 'orders',
      quarantineTable: 'quarantine',
      defaultStockPerSku: 1000,
      maxParkedEvents: 100,
      transientHoldMs: 240_000,
      inFlightTable: 'inflight',
      consoleMetricsTable: 'consolemetrics',
      stuckThresholdMs: 300_000,
      inFlightBucketMs: 60_000,
      stuckWatchdogSchedule: '0 */1 * * * *',
      testProducerEnabled: true,
    });
  });

  it('reads the console settings: threshold (bucket width follows it), watchdog schedule, producer switch', () => {
    const config = parseConfig({
      ...local,
      STUCK_THRESHOLD_SECONDS: '10',
      STUCK_WATCHDOG_SCHEDULE: '*/5 * * * * *',
      TEST_PRODUCER_ENABLED: 'False',
    });
    assert.equal(config.stuckThresholdMs, 10_000);
    assert.equal(config.inFlightBucketMs, 2_000);
    assert.equal(config.stuckWatchdogSchedule, '*/5 * * * * *');
    assert.equal(config.testProducerEnabled, false);
    assert.equal(parseConfig({ ...local, STUCK_THRESHOLD_SECONDS: '1' }).inFlightBucketMs, 1_000);
  });

  it('refuses a bad threshold, a schedule that is not six NCRONTAB fields, and a producer switch that is not a boolean', () => {
    assert.throws(() => parseConfig({ ...local, STUCK_THRESHOLD_SECONDS: '0' }), /STUCK_THRESHOLD_SECONDS is invalid/);
    assert.throws(() => parseConfig({ ...local, STUCK_THRESHOLD_SECONDS: '2.5' }), /whole seconds/);
    assert.throws(
      () => parseConfig({ ...local, STUCK_WATCHDOG_SCHEDULE: '*/5 * * * *' }),
      /STUCK_WATCHDOG_SCHEDULE is invalid: must be an NCRONTAB expression with six fields/,
    );
    assert.throws(() => parseConfig({ ...local, STUCK_WATCHDOG_SCHEDULE: '00:01:00' }), /STUCK_WATCHDOG_SCHEDULE/);
    assert.throws(
      () => parseConfig({ ...local, TEST_PRODUCER_ENABLED: 'yes' }),
      /TEST_PRODUCER_ENABLED is invalid: must be true or false/,
    );
  });

  it('reads identity-based connections (Azure) with an optional user-assigned client id', () => {
    const config = parseConfig({
      ORDER_EVENTS_QUEUE: 'order-events',
      ServiceBusConnection__fullyQualifiedNamespace: 'convoy.servicebus.windows.net',
      ServiceBusConnection__clientId: 'client-1',
      OrderStoreConnection__tableServiceUri: 'https://convoy.table.core.windows.net',
    });
    assert.deepEqual(config.serviceBus, {
      kind: 'identity',
      fullyQualifiedNamespace: 'convoy.servicebus.windows.net',
      clientId: 'client-1',
    });
    assert.deepEqual(config.orderStore, {
      kind: 'identity',
      tableServiceUri: 'https://convoy.table.core.windows.net',
      clientId: undefined,
    });
  });

  it('fails naming the missing setting', () => {
    const { ServiceBusConnection: _, ...noBroker } = local;
    assert.throws(
      () => parseConfig(noBroker),
      new ConfigError(
        'Setting ServiceBusConnection (connection string) or ServiceBusConnection__fullyQualifiedNamespace (identity) is missing.',
      ),
    );
    const { ORDER_EVENTS_QUEUE: __, ...noQueue } = local;
    assert.throws(() => parseConfig(noQueue), new ConfigError('Setting ORDER_EVENTS_QUEUE is missing.'));
  });

  it('fails naming the invalid setting and why', () => {
    assert.throws(
      () => parseConfig({ ...local, ORDERS_TABLE: 'no-dashes' }),
      /^ConfigError: Setting ORDERS_TABLE is invalid: must be 3-63/,
    );
    assert.throws(
      () => parseConfig({ ...local, DEFAULT_STOCK_PER_SKU: '-1' }),
      /Setting DEFAULT_STOCK_PER_SKU is invalid/,
    );
  });

  it(`caps MAX_PARKED_EVENTS at the ${String(maxEventsPerBasket)} events a basket may have`, () => {
    const max = String(maxEventsPerBasket);
    assert.equal(parseConfig({ ...local, MAX_PARKED_EVENTS: max }).maxParkedEvents, maxEventsPerBasket);
    assert.throws(
      () => parseConfig({ ...local, MAX_PARKED_EVENTS: String(maxEventsPerBasket + 1) }),
      /Setting MAX_PARKED_EVENTS is invalid/,
    );
  });
});
