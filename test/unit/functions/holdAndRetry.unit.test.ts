import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { InvocationContext } from '@azure/functions';
import { eventIdFor } from '../../../src/domain/events';
import { maxTransientHoldSeconds, parseConfig } from '../../../src/config';
import {
  defaultRetrySchedule,
  holdAndRetry,
  retryDelayMs,
  type RetryNotice,
} from '../../../src/application/holdAndRetry';
import { makeProcessOrderEvent, processOrderEventName } from '../../../src/functions/processOrderEvent';
import {
  FakeRetryClock,
  InMemoryOrderStore,
  InMemoryQuarantineStore,
  ManualClock,
  RecordingFulfillmentStarter,
} from '../../support/fakes';

const schedule = { ...defaultRetrySchedule, holdBudgetMs: 240_000 };

describe('holdAndRetry: the schedule', () => {
  it('doubles from 0.5 s up to the 30 s cap', () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => retryDelayMs(schedule, n, 0.999_999));
    assert.deepEqual(ceilings, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('jitters within the upper half of each delay', () => {
    assert.equal(retryDelayMs(schedule, 3, 0), 1000);
    assert.equal(retryDelayMs(schedule, 3, 0.5), 1500);
    assert.equal(retryDelayMs(schedule, 10, 0), 15_000);
  });

  it('returns the first success, after the failures it retried', async () => {
    const clock = new FakeRetryClock();
    const notices: RetryNotice[] = [];
    let calls = 0;
    const result = await holdAndRetry(
      () => {
        calls++;
        return calls < 4 ? Promise.reject(new Error(`outage ${String(calls)}`)) : Promise.resolve('applied');
      },
      schedule,
      clock,
      (notice) => notices.push(notice),
    );
    assert.equal(result, 'applied');
    assert.equal(calls, 4);
    assert.deepEqual(clock.sleeps, [500, 1000, 2000]);
    assert.deepEqual(
      notices.map((n) => [n.attempt, (n.error as Error).message, n.elapsedMs]),
      [
        [1, 'outage 1', 0],
        [2, 'outage 2', 500],
        [3, 'outage 3', 1500],
      ],
    );
  });

  it('gives up with the last error before a retry would end past the hold budget', async () => {
    const clock = new FakeRetryClock();
    let calls = 0;
    await assert.rejects(
      holdAndRetry(
        () => {
          calls++;
          return Promise.reject(new Error(`outage ${String(calls)}`));
        },
        schedule,
        clock,
        () => undefined,
      ),
      (error: Error) => error.message === `outage ${String(calls)}`,
    );
    // 0.5+1+2+4+8+16 = 31.5 s, then 30 s steps: the last sleep ends at 211.5 s; one more would pass 240 s.
    assert.equal(clock.now, 211_500);
    assert.ok(clock.now <= schedule.holdBudgetMs);
    assert.equal(calls, clock.sleeps.length + 1);
  });

  it('a zero budget throws on the first failure without sleeping', async () => {
    const clock = new FakeRetryClock();
    await assert.rejects(
      holdAndRetry(
        () => Promise.reject(new Error('down')),
        { ...schedule, holdBudgetMs: 0 },
        clock,
        () => undefined,
      ),
      /down/,
    );
    assert.deepEqual(clock.sleeps, []);
  });
});

describe('TRANSIENT_HOLD_SECONDS', () => {
  const local = {
    ServiceBusConnection: 'Endpoint=sb://localhost',
    ORDER_EVENTS_QUEUE: 'order-events',
    OrderStoreConnection: 'UseDevelopmentStorage=true',
  };

  it('defaults to 240 s and accepts 0 (no hold)', () => {
    assert.equal(parseConfig(local).transientHoldMs, 240_000);
    assert.equal(parseConfig({ ...local, TRANSIENT_HOLD_SECONDS: '0' }).transientHoldMs, 0);
  });

  it('refuses holds that would outlive the session lock renewal, and non-numbers, by name', () => {
    assert.throws(
      () => parseConfig({ ...local, TRANSIENT_HOLD_SECONDS: String(maxTransientHoldSeconds + 1) }),
      /TRANSIENT_HOLD_SECONDS is invalid: must be at most 270/,
    );
    assert.throws(() => parseConfig({ ...local, TRANSIENT_HOLD_SECONDS: 'long' }), /TRANSIENT_HOLD_SECONDS/);
    assert.throws(() => parseConfig({ ...local, TRANSIENT_HOLD_SECONDS: '-1' }), /TRANSIENT_HOLD_SECONDS/);
  });

  it('the largest hold plus a last 30 s attempt stays inside host.json maxAutoLockRenewalDuration', () => {
    const hostJson = JSON.parse(readFileSync(resolve(__dirname, '../../../host.json'), 'utf8')) as {
      extensions: { serviceBus: { maxAutoLockRenewalDuration: string } };
    };
    const [h, m, s] = hostJson.extensions.serviceBus.maxAutoLockRenewalDuration.split(':').map(Number);
    const renewalSeconds = (h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? 0);
    assert.ok(maxTransientHoldSeconds + 30 <= renewalSeconds, `${String(renewalSeconds)} s renewal`);
  });
});

describe('processOrderEvent holds a message through transient failures', () => {
  function setup(holdBudgetMs: number) {
    const orders = new InMemoryOrderStore();
    const clock = new FakeRetryClock(0);
    const logs: string[] = [];
    const handler = makeProcessOrderEvent({
      orderStore: () => orders,
      quarantineStore: () => new InMemoryQuarantineStore(),
      fulfillmentStarterFor: () => new RecordingFulfillmentStarter(),
      now: new ManualClock().now,
      maxParkedEvents: () => 10,
      transientRetry: () => ({ ...defaultRetrySchedule, holdBudgetMs }),
      clock,
    });
    const context = new InvocationContext({
      functionName: processOrderEventName,
      triggerMetadata: { sessionId: 'b-1', messageId: 'b-1:1', deliveryCount: 1, sequenceNumber: 7 },
      logHandler: (level, ...args) => logs.push(`${level} ${args.map(String).join(' ')}`),
    });
    const event = {
      basketId: 'b-1',
      sequence: 1,
      eventId: eventIdFor('b-1', 1),
      type: 'ItemAdded',
      occurredAt: '2026-01-01T10:00:00.000Z',
      data: { sku: 'SKU-1', quantity: 1, unitPrice: 2 },
    };
    return { orders, clock, logs, deliver: () => handler(event, context) };
  }

  it('retries the same message after storage failures and applies it once, logging each retry', async () => {
    const { orders, clock, logs, deliver } = setup(240_000);
    orders.failNext('get', new Error('ECONNRESET storage'));
    orders.failNext('get', new Error('503 storage'));
    await deliver();
    assert.equal(orders.peek('b-1')?.lastAppliedSequence, 1);
    assert.deepEqual(clock.sleeps, [250, 500]);
    const held = logs.filter((line) => line.includes('outcome=held'));
    assert.equal(held.length, 2);
    assert.match(held[0] ?? '', /^warning .*attempt=1 retryInMs=250 .*basket=b-1 sequence=1.*ECONNRESET storage/);
    assert.match(held[1] ?? '', /attempt=2 retryInMs=500 .*503 storage/);
  });

  it('throws (the host abandons) once the budget is spent', async () => {
    const { orders, logs, deliver } = setup(600);
    for (let i = 0; i < 5; i++) orders.failNext('get', new Error('still down'));
    await assert.rejects(deliver(), /still down/);
    assert.equal(orders.peek('b-1'), undefined);
    assert.ok(logs.some((line) => /outcome=retry .*still down/.test(line)));
  });
});
