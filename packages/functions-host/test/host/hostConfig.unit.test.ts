import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { parseHostJson } from '../../src/host/hostConfig';

describe('host.json', () => {
  it('fills in the extension defaults: sessionIdleTimeout falls back to tryTimeout (60 s)', () => {
    const config = parseHostJson({ version: '2.0' });
    assert.deepEqual(config.serviceBus, {
      prefetchCount: 0,
      autoCompleteMessages: true,
      maxAutoLockRenewalDurationMs: 300_000,
      maxConcurrentCalls: 16 * availableParallelism(),
      maxConcurrentSessions: 8,
      maxConcurrentCallsPerSession: 1,
      sessionIdleTimeoutMs: 60_000,
      retry: { mode: 'exponential', tryTimeoutMs: 60_000, delayMs: 800, maxDelayMs: 60_000, maxRetries: 3 },
    });
    assert.equal(config.durableHubName, 'TestHubName');
    assert.deepEqual(config.durableConcurrency, {});
    assert.equal(config.routePrefix, 'api');
  });

  it('reads the flat v5 keys and the durable hub name', () => {
    const config = parseHostJson({
      extensions: {
        serviceBus: {
          maxConcurrentSessions: 16,
          sessionIdleTimeout: '00:00:02',
          clientRetryOptions: { tryTimeout: '00:00:30' },
        },
        durableTask: { hubName: 'ConvoyHub' },
        http: { routePrefix: '' },
      },
    });
    assert.equal(config.serviceBus.maxConcurrentSessions, 16);
    assert.equal(config.serviceBus.sessionIdleTimeoutMs, 2_000);
    assert.equal(config.serviceBus.retry.tryTimeoutMs, 30_000);
    assert.equal(config.durableHubName, 'ConvoyHub');
    assert.equal(config.routePrefix, '');
  });

  it('names the bad key', () => {
    assert.throws(
      () => parseHostJson({ extensions: { serviceBus: { sessionIdleTimeout: 'soon' } } }),
      /extensions\.serviceBus\.sessionIdleTimeout/,
    );
  });
});
