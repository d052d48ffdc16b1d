import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fulfillmentInstanceId, fulfillmentStarterFor } from '../../../src/adapters/durableFulfillment';
import { setupTelemetry, shutdownTelemetry } from '../../../src/telemetry/setup';
import { startDurableExtensionStub, type DurableExtensionStub } from '../../support/durableExtensionStub';

const request = { basketId: 'b-1', lines: [{ sku: 'SKU-1', quantity: 2 }], nextSequence: 5 };

describe('fulfillmentStarterFor (real durable client over HTTP to a stand-in extension)', () => {
  let extension: DurableExtensionStub;
  before(async () => {
    extension = await startDurableExtensionStub();
  });
  after(async () => {
    await extension.close();
  });
  beforeEach(() => {
    extension.reset();
  });

  it('starts fulfillOrder with instance id fulfill-<basketId> and the request as input when none exists', async () => {
    await fulfillmentStarterFor(extension.contextFor('processOrderEvent')).ensureStarted(request);
    assert.deepEqual(
      extension.requests.map((r) => `${r.method} ${r.path}`),
      ['GET instances/fulfill-b-1', 'POST orchestrators/fulfillOrder/fulfill-b-1'],
    );
    assert.deepEqual(extension.instances.get('fulfill-b-1'), {
      name: 'fulfillOrder',
      runtimeStatus: 'Pending',
      input: request,
    });
  });

  it('is idempotent: a second call (redelivered PaymentMade) starts nothing while the instance exists or completed', async () => {
    for (const runtimeStatus of ['Pending', 'Running', 'Completed', 'Suspended']) {
      extension.requests.length = 0;
      extension.instances.set(fulfillmentInstanceId('b-1'), { name: 'fulfillOrder', runtimeStatus, input: request });
      await fulfillmentStarterFor(extension.contextFor('processOrderEvent')).ensureStarted(request);
      assert.deepEqual(
        extension.requests.map((r) => `${r.method} ${r.path}`),
        ['GET instances/fulfill-b-1'],
        runtimeStatus,
      );
    }
  });

  it('starts again after a Failed instance (reserve is idempotent per basket, so a rerun is safe)', async () => {
    extension.instances.set(fulfillmentInstanceId('b-1'), {
      name: 'fulfillOrder',
      runtimeStatus: 'Failed',
      input: request,
    });
    await fulfillmentStarterFor(extension.contextFor('processOrderEvent')).ensureStarted(request);
    assert.equal(extension.instances.get('fulfill-b-1')?.runtimeStatus, 'Pending');
  });

  it('starts at once, without the status read, for the step that saved the order into Paid', async () => {
    await fulfillmentStarterFor(extension.contextFor('processOrderEvent')).ensureStarted(request, {
      paidInThisStep: true,
    });
    assert.deepEqual(
      extension.requests.map((r) => `${r.method} ${r.path}`),
      ['POST orchestrators/fulfillOrder/fulfill-b-1'],
    );
    assert.equal(extension.instances.get('fulfill-b-1')?.runtimeStatus, 'Pending');
  });

  it("carries the invocation's trace in the input with nothing exported (no context manager)", async () => {
    const hostParent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const context = extension.contextFor('processOrderEvent');
    context.traceContext = { traceParent: hostParent };
    setupTelemetry({ export: { kind: 'none' }, appInsightsConnectionString: undefined });
    try {
      await fulfillmentStarterFor(context).ensureStarted(request, { paidInThisStep: true });
    } finally {
      await shutdownTelemetry();
    }
    assert.deepEqual(extension.instances.get('fulfill-b-1')?.input, { ...request, trace: { traceparent: hostParent } });
  });

  it('falls back to the status read when that direct start fails, and starts once the read finds none', async () => {
    extension.failNextWith = 503;
    await fulfillmentStarterFor(extension.contextFor('processOrderEvent')).ensureStarted(request, {
      paidInThisStep: true,
    });
    assert.deepEqual(
      extension.requests.map((r) => `${r.method} ${r.path}`),
      [
        'POST orchestrators/fulfillOrder/fulfill-b-1',
        'GET instances/fulfill-b-1',
        'POST orchestrators/fulfillOrder/fulfill-b-1',
      ],
    );
    assert.equal(extension.instances.get('fulfill-b-1')?.runtimeStatus, 'Pending');
  });

  it("reaches the extension its own client input names, not the one a previous call's cached client knew", async () => {
    const other = await startDurableExtensionStub();
    try {
      await fulfillmentStarterFor(extension.contextFor('processOrderEvent')).ensureStarted(request);
      await fulfillmentStarterFor(other.contextFor('processOrderEvent')).ensureStarted({ ...request, basketId: 'b-2' });
      assert.deepEqual([...extension.instances.keys()], ['fulfill-b-1']);
      assert.deepEqual([...other.instances.keys()], ['fulfill-b-2']);
    } finally {
      await other.close();
    }
  });

  it('throws when the extension fails, so the triggering message is redelivered', async () => {
    extension.failWith = 500;
    await assert.rejects(fulfillmentStarterFor(extension.contextFor('processOrderEvent')).ensureStarted(request));
    assert.equal(extension.instances.size, 0);
  });
});
