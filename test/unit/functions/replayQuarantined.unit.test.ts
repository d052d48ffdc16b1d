import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { eventIdFor } from '../../../src/domain/events';
import type { QuarantinedMessage } from '../../../src/domain/orderRecord';
import { makeReplayQuarantined, replayQuarantinedName } from '../../../src/functions/replayQuarantined';
import {
  InMemoryOrderStore,
  InMemoryQuarantineStore,
  ManualClock,
  RecordingFulfillmentStarter,
} from '../../support/fakes';

/** Quarantine replay over in-memory ports: as stored, corrected, cut bodies, bad corrections, outages. */

const first = {
  basketId: 'b-1',
  sequence: 1,
  eventId: eventIdFor('b-1', 1),
  type: 'ItemAdded',
  occurredAt: '2026-01-01T10:00:00.000Z',
  data: { sku: 'S', quantity: 1, unitPrice: 2 },
};

function quarantined(overrides: Partial<QuarantinedMessage> = {}): QuarantinedMessage {
  return {
    messageId: 'b-1:1',
    sessionId: 'b-wrong',
    reason: 'The body\'s basketId "b-1" differs from the session id "b-wrong".',
    body: JSON.stringify(first),
    deliveryCount: 1,
    serviceSequenceNumber: '42',
    quarantinedAt: '2026-01-01T10:00:01.000Z',
    ...overrides,
  };
}

function setup() {
  const orders = new InMemoryOrderStore();
  const quarantine = new InMemoryQuarantineStore();
  const handler = makeReplayQuarantined({
    orderStore: () => orders,
    quarantineStore: () => quarantine,
    fulfillmentStarterFor: () => new RecordingFulfillmentStarter(),
    now: new ManualClock('2026-01-01T11:00:00.000Z').now,
    maxParkedEvents: () => 10,
  });
  const replay = async (messageId: string, correction?: string) => {
    const response = await handler(
      new HttpRequest({
        method: 'POST',
        url: `http://localhost:7071/api/quarantine/${encodeURIComponent(messageId)}/replay`,
        params: { messageId },
        headers: { 'content-length': String(correction === undefined ? 0 : Buffer.byteLength(correction)) },
        ...(correction === undefined ? {} : { body: { string: correction } }),
      }),
      new InvocationContext({ functionName: replayQuarantinedName }),
    );
    const body: unknown = JSON.parse(JSON.stringify(response.jsonBody ?? null));
    return { status: response.status ?? 200, body };
  };
  return { orders, quarantine, replay };
}

describe('replayQuarantined', () => {
  it('as stored: still quarantined, the row stays; with the right session: applied and the row removed', async () => {
    const t = setup();
    await t.quarantine.add(quarantined());
    const asStored = await t.replay('b-1:1');
    assert.equal(asStored.status, 200);
    assert.deepEqual(asStored.body, {
      messageId: 'b-1:1',
      outcome: 'quarantined',
      detail: 'The body\'s basketId "b-1" differs from the session id "b-wrong".',
      removed: false,
    });
    assert.equal(t.quarantine.size, 1);

    const fixed = await t.replay('b-1:1', JSON.stringify({ sessionId: 'b-1' }));
    assert.deepEqual(fixed.body, {
      messageId: 'b-1:1',
      outcome: 'applied',
      detail: 'Applied sequences 1.',
      removed: true,
      order: { status: 'Open', lastAppliedSequence: 1, parkedSequences: [] },
    });
    assert.equal(t.quarantine.size, 0);
    assert.equal(t.orders.peek('b-1')?.applied[0]?.serviceSequenceNumber, '42', 'recorded with its broker facts');
  });

  it('refuses a cut body unless the correction carries the whole one', async () => {
    const t = setup();
    await t.quarantine.add(quarantined({ sessionId: 'b-1', body: '{"basketId":"b-1",…[300 more]' }));
    const refused = await t.replay('b-1:1');
    assert.equal(refused.status, 409);
    assert.match(JSON.stringify(refused.body), /stored cut to fit Table Storage/);
    const whole = await t.replay('b-1:1', JSON.stringify({ body: first }));
    assert.equal(whole.status, 200);
    assert.equal(t.orders.peek('b-1')?.lastAppliedSequence, 1);
  });

  it('refuses (409, both ids named) a body whose eventId is not the stored message id; the order is untouched', async () => {
    const t = setup();
    await t.quarantine.add(quarantined());
    const second = { ...first, sequence: 2, eventId: eventIdFor('b-1', 2) };
    const corrected = await t.replay('b-1:1', JSON.stringify({ sessionId: 'b-1', body: second }));
    assert.equal(corrected.status, 409);
    assert.match(JSON.stringify(corrected.body), /event-id-mismatch/);
    assert.match(
      JSON.stringify(corrected.body),
      /eventId \\"b-1:2\\" differs from the quarantined message id \\"b-1:1\\"/,
    );
    assert.equal(t.orders.peek('b-1'), undefined, 'no order blocked or created');
    assert.equal(t.quarantine.size, 1, 'the row stays for a right correction');

    // A row stored under another id (a message that had none: the invocation id stood in) is refused as stored too.
    await t.quarantine.add(quarantined({ messageId: 'invocation-7', sessionId: 'b-1' }));
    const asStored = await t.replay('invocation-7');
    assert.equal(asStored.status, 409);
    assert.equal(t.orders.peek('b-1'), undefined);

    const right = await t.replay('b-1:1', JSON.stringify({ sessionId: 'b-1', body: first }));
    assert.equal(right.status, 200);
    assert.equal(t.orders.peek('b-1')?.lastAppliedSequence, 1);
  });

  it('answers 404 for an unknown id, 400 for a malformed correction, 503 when the store is down', async () => {
    const t = setup();
    assert.equal((await t.replay('nope')).status, 404);
    await t.quarantine.add(quarantined());
    const bad = await t.replay('b-1:1', JSON.stringify({ sessionId: 7 }));
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /sessionId/);
    assert.equal((await t.replay('b-1:1', '{not json')).status, 400);
    t.quarantine.failNext('get', new Error('ECONNREFUSED 127.0.0.1:10002'));
    const down = await t.replay('b-1:1');
    assert.equal(down.status, 503);
    assert.equal(t.quarantine.size, 1, 'nothing removed');
  });
});
