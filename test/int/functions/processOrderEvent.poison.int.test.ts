import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { paidBasket, quarantineListContract, wireEvent } from './support/basket';
import { orderView, startConvoyHarness, type ConvoyHarness } from './support/convoyHarness';

/**
 * Poison messages never spin to maxDeliveryCount and are never lost: the handler completes (does
 * not throw) and records them where an operator looks — the quarantine (no usable basket) or the
 * order's rejected log (a known basket and sequence) — both read back through the HTTP handlers
 * over the real Table adapters on Azurite.
 */

describe('processOrderEvent: poison messages are recorded and completed (real Table Storage)', () => {
  let h: ConvoyHarness;
  before(async () => {
    h = await startConvoyHarness();
  });
  after(async () => {
    await h.close();
  });

  async function quarantined(messageId: string) {
    const answer = await h.listQuarantine(1000);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return quarantineListContract.parse(answer.body).messages.filter((message) => message.messageId === messageId);
  }

  it('an unparseable body is quarantined with its text and completes; a redelivery is stored once', async () => {
    const delivery = h.send('{"basketId": "b-garbled", "sequence": 1, oops', {
      sessionId: 'b-garbled',
      messageId: 'b-garbled:1',
    });
    await h.deliver(delivery); // resolves: the host completes the message
    await h.deliver(h.redelivery(delivery));

    const found = await quarantined('b-garbled:1');
    assert.equal(found.length, 1);
    const [entry] = found;
    assert.equal(entry?.sessionId, 'b-garbled');
    assert.equal(entry.body, '{"basketId": "b-garbled", "sequence": 1, oops');
    assert.equal(entry.deliveryCount, 1, 'the first record stands');
    assert.equal(entry.serviceSequenceNumber, String(delivery.sequenceNumber));
    assert.match(entry.reason, /does not match its schema.*no usable basketId and sequence/);
    assert.equal((await h.getOrder('b-garbled')).status, 404, 'no order was invented for it');
    assert.ok(h.logs.some((log) => log.level === 'warning' && /outcome=quarantined session=b-garbled/.test(log.line)));
  });

  it('a body whose basketId differs from the session id is quarantined and touches neither order', async () => {
    await h.deliver(h.send(paidBasket('b-mine')[0]));
    const stray = h.send(paidBasket('b-theirs')[1], { sessionId: 'b-mine' });
    await h.deliver(stray);

    const [entry] = await quarantined('b-theirs:2');
    assert.equal(entry?.sessionId, 'b-mine');
    assert.match(entry.reason, /basketId "b-theirs" differs from the session id "b-mine"/);
    assert.deepEqual(JSON.parse(entry.body), paidBasket('b-theirs')[1]);
    const mine = await orderView(h, 'b-mine');
    assert.deepEqual([mine.lastAppliedSequence, mine.parked, mine.rejected], [1, [], []]);
    assert.equal((await h.getOrder('b-theirs')).status, 404);
  });

  it('a message without a session id (queue not session-enabled) is quarantined', async () => {
    const delivery = h.send(paidBasket('b-nosession')[0], { sessionId: null });
    await h.deliver(delivery);
    const [entry] = await quarantined('b-nosession:1');
    assert.ok(entry, 'quarantined');
    assert.equal(entry.sessionId, undefined);
    assert.match(entry.reason, /no session id/);
  });

  it('a schema violation at a known sequence blocks the order with the reason; later events are rejected', async () => {
    const events = paidBasket('b-invalid');
    await h.deliver(h.send(events[0]));
    const invalid = h.send(wireEvent('b-invalid', 2, 'ItemAdded', { sku: 'SKU-2', quantity: 0, unitPrice: 4.99 }));
    await h.deliver(invalid);
    const later = [h.send(events[2]), h.send(events[3])];
    for (const delivery of later) await h.deliver(delivery);

    const view = await orderView(h, 'b-invalid');
    assert.equal(view.status, 'Blocked');
    assert.match(view.blockedReason ?? '', /Sequence 2 is invalid: .*data\.quantity/);
    assert.equal(view.lastAppliedSequence, 1);
    assert.deepEqual(
      view.rejected.map((entry) => [entry.sequence, entry.serviceSequenceNumber]),
      [[2, String(invalid.sequenceNumber)], ...later.map((delivery, i) => [i + 3, String(delivery.sequenceNumber)])],
    );
    assert.ok(view.rejected.slice(1).every((entry) => /blocked/.test(entry.reason)));
    assert.equal(h.fulfillment.calls.filter((call) => call.basketId === 'b-invalid').length, 0);
  });

  it('a rule violation (payment ≠ basket total) blocks the order with a reason a person can act on', async () => {
    const events = paidBasket('b-underpaid').slice(0, 3);
    for (const body of events) await h.deliver(h.send(body));
    await h.deliver(h.send(wireEvent('b-underpaid', 4, 'PaymentMade', { amount: 20, currency: 'EUR' })));

    const view = await orderView(h, 'b-underpaid');
    assert.equal(view.status, 'Blocked');
    assert.match(view.blockedReason ?? '', /PaymentMade of 20\.00 EUR does not equal the basket total of 23\.99 EUR/);
    assert.equal(view.lastAppliedSequence, 3);
    assert.equal(h.fulfillment.calls.filter((call) => call.basketId === 'b-underpaid').length, 0);
  });
});
