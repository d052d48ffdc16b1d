import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fulfillmentStatusReaderFor } from '../../../src/adapters/durableFulfillmentStatus';
import { startDurableExtensionStub, type DurableExtensionStub } from '../../support/durableExtensionStub';

/** The console's fulfillment status over HTTP, from the real durable client and the extension's status API. */

describe('fulfillmentStatusReaderFor (over HTTP to a stand-in Durable extension)', () => {
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

  const history = {
    historyEvents: [
      { EventType: 'ExecutionStarted', Name: 'fulfillOrder', Timestamp: '2026-03-01T09:00:00.000Z' },
      { EventType: 'EventSent', Name: 'op', InstanceId: '@inventory@SKU-1', Timestamp: '2026-03-01T09:00:00.100Z' },
      { EventType: 'TaskScheduled', Name: 'publishInventoryUpdated', Timestamp: '2026-03-01T09:00:00.200Z' },
      { EventType: 'TaskFailed', Reason: 'broker down', Timestamp: '2026-03-01T09:00:00.300Z' },
    ],
  };

  it('reads the steps from the history the extension returns (which getStatus drops)', async () => {
    extension.instances.set(
      'fulfill-b-1',
      Object.assign({ name: 'fulfillOrder', runtimeStatus: 'Running', input: null }, history),
    );
    const view = await fulfillmentStatusReaderFor(extension.contextFor('consoleTimeline')).status('b-1', true);
    assert.equal(view?.runtimeStatus, 'Running');
    assert.deepEqual(view.steps, [
      { at: '2026-03-01T09:00:00.000Z', name: 'ExecutionStarted fulfillOrder' },
      { at: '2026-03-01T09:00:00.100Z', name: 'EventSent op to @inventory@SKU-1' },
      { at: '2026-03-01T09:00:00.200Z', name: 'TaskScheduled publishInventoryUpdated' },
      { at: '2026-03-01T09:00:00.300Z', name: 'TaskFailed', detail: 'broker down' },
    ]);
    const [request] = extension.requests;
    assert.equal(request?.path, 'instances/fulfill-b-1');
    assert.equal(request.query.showHistory, 'true');
  });

  it('asks for the status alone through the durable client when no steps are wanted', async () => {
    extension.instances.set('fulfill-b-1', { name: 'fulfillOrder', runtimeStatus: 'Failed', input: null });
    const view = await fulfillmentStatusReaderFor(extension.contextFor('stuckBasketWatchdog')).status('b-1', false);
    assert.equal(view?.runtimeStatus, 'Failed');
    assert.deepEqual(view.steps, []);
  });

  it('answers undefined for a basket whose fulfillment never started, and throws when the extension fails', async () => {
    const reader = fulfillmentStatusReaderFor(extension.contextFor('consoleTimeline'));
    assert.equal(await reader.status('none', true), undefined);
    assert.equal(await reader.status('none', false), undefined);
    extension.failWith = 500;
    await assert.rejects(reader.status('b-1', true), /HTTP 500/);
    await assert.rejects(reader.status('b-1', false));
  });
});
