import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inventoryReserved, paidBasket, paidBasketLines, problemContract, wireEvent } from './support/basket';
import { orderView, startConvoyHarness, type ConvoyHarness } from './support/convoyHarness';
import type { Delivery } from './support/serviceBusDelivery';

/**
 * processOrderEvent, getOrder and listQuarantine as built by the app, over the real Table adapters on
 * a real Azurite; every message reaches the handler the way the host hands it over (see
 * support/serviceBusDelivery.ts). Only the fulfillment starter (Durable port) is a recording fake.
 */

describe('processOrderEvent over real Table Storage (Azurite): order, idempotency, resequencing', () => {
  let h: ConvoyHarness;
  before(async () => {
    h = await startConvoyHarness();
  });
  after(async () => {
    await h.close();
  });

  async function sendAll(bodies: readonly unknown[]): Promise<Delivery[]> {
    const deliveries = bodies.map((body) => h.send(body));
    for (const delivery of deliveries) await h.deliver(delivery);
    return deliveries;
  }

  it('a full basket in order ends Paid with one fulfillment request; InventoryUpdated makes it Fulfilled', async () => {
    const deliveries = await sendAll(paidBasket('b-happy'));

    const paid = await orderView(h, 'b-happy');
    assert.equal(paid.status, 'Paid');
    assert.equal(paid.lastAppliedSequence, 4);
    assert.deepEqual(
      paid.applied.map((entry) => [
        entry.sequence,
        entry.type,
        entry.eventId,
        entry.deliveryCount,
        entry.serviceSequenceNumber,
      ]),
      deliveries.map((d, i) => [
        i + 1,
        ['ItemAdded', 'ItemAdded', 'BasketCheckedOut', 'PaymentMade'][i],
        `b-happy:${String(i + 1)}`,
        1,
        String(d.sequenceNumber),
      ]),
    );
    assert.deepEqual([paid.parked, paid.rejected, paid.duplicates], [[], [], []]);
    assert.deepEqual(
      h.fulfillment.calls.filter((call) => call.basketId === 'b-happy'),
      [{ basketId: 'b-happy', lines: paidBasketLines, nextSequence: 5 }],
    );

    await sendAll([inventoryReserved('b-happy')]);
    const fulfilled = await orderView(h, 'b-happy');
    assert.equal(fulfilled.status, 'Fulfilled');
    assert.deepEqual(
      fulfilled.applied.map((entry) => entry.sequence),
      [1, 2, 3, 4, 5],
    );
    assert.equal(h.fulfillment.calls.filter((call) => call.basketId === 'b-happy').length, 1, 'no second request');
  });

  it('GET answers the contract: 404 problem for an unknown basket, 400 problem for an invalid id', async () => {
    const unknown = await h.getOrder('b-never-seen');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.contentType, 'application/problem+json');
    assert.match(problemContract.parse(unknown.body).detail, /b-never-seen/);

    const invalid = await h.getOrder('no spaces allowed');
    assert.equal(invalid.status, 400);
    assert.equal(invalid.contentType, 'application/problem+json');
    problemContract.parse(invalid.body);
  });

  it('redelivery of every message (at least once) records duplicates and changes nothing', async () => {
    const deliveries = await sendAll([...paidBasket('b-again'), inventoryReserved('b-again')]);
    const first = await orderView(h, 'b-again');

    // Each message again right away (lock lost after the write), then the whole session once more.
    for (const delivery of deliveries) await h.deliver(h.redelivery(delivery));
    for (const delivery of deliveries) await h.deliver(h.redelivery(h.redelivery(delivery)));

    const after = await orderView(h, 'b-again');
    assert.equal(after.status, 'Fulfilled');
    assert.equal(after.lastAppliedSequence, 5);
    assert.deepEqual(after.applied, first.applied, 'the applied log is untouched, first deliveries kept');
    assert.deepEqual(
      after.duplicates.map((entry) => [entry.sequence, entry.deliveryCount]),
      [...deliveries.map((_, i) => [i + 1, 2]), ...deliveries.map((_, i) => [i + 1, 3])],
    );
    assert.deepEqual(after.rejected, []);
    // Redeliveries arrive after InventoryUpdated: the order is past Paid, so nothing is requested again.
    assert.deepEqual(
      h.fulfillment.calls.filter((call) => call.basketId === 'b-again'),
      [{ basketId: 'b-again', lines: paidBasketLines, nextSequence: 5 }],
    );
    assert.equal(h.logs.filter((log) => /outcome=duplicate basket=b-again /.test(log.line)).length, 10);
  });

  it('out-of-order delivery parks later events, then drains them; the applied log is in sequence order', async () => {
    const events = paidBasket('b-shuffle');
    const bySequence = new Map<number, Delivery>();
    for (const sequence of [3, 1, 4, 2]) {
      const delivery = h.send(events[sequence - 1]);
      bySequence.set(sequence, delivery);
      await h.deliver(delivery);
      const view = await orderView(h, 'b-shuffle');
      const expected = { 3: [0, [3]], 1: [1, [3]], 4: [1, [3, 4]], 2: [4, []] }[sequence];
      assert.deepEqual(
        [view.lastAppliedSequence, view.parked.map((entry) => entry.sequence)],
        expected,
        `after sequence ${String(sequence)}`,
      );
    }

    const view = await orderView(h, 'b-shuffle');
    assert.equal(view.status, 'Paid');
    assert.deepEqual(
      view.applied.map((entry) => [entry.sequence, entry.serviceSequenceNumber]),
      [1, 2, 3, 4].map((sequence) => [sequence, String(bySequence.get(sequence)?.sequenceNumber)]),
      'each applied entry keeps the broker sequence number of its own delivery',
    );
    assert.deepEqual(h.fulfillment.started.get('b-shuffle'), {
      basketId: 'b-shuffle',
      lines: paidBasketLines,
      nextSequence: 5,
    });
  });

  it('more parked events than the limit block the order; the parked ones move to the rejected log', async () => {
    const later = [2, 3, 4, 5, 6, 7].map((sequence) =>
      wireEvent('b-flood', sequence, 'ItemAdded', { sku: 'SKU-3', quantity: 1, unitPrice: 12 }),
    );
    await sendAll(later);
    const view = await orderView(h, 'b-flood');
    assert.equal(view.status, 'Blocked');
    assert.match(view.blockedReason ?? '', /Too many events parked: 5 events already wait for sequence 1/);
    assert.deepEqual(
      [view.lastAppliedSequence, view.parked, view.rejected.map((entry) => entry.sequence)],
      [0, [], [7, 2, 3, 4, 5, 6]],
    );
  });

  it('a failure to request fulfillment after the save throws; the redelivery (a duplicate) requests it', async () => {
    const [item, checkout, payment] = [
      ...paidBasket('b-heal').slice(0, 1),
      wireEvent('b-heal', 2, 'BasketCheckedOut', { currency: 'EUR' }),
      wireEvent('b-heal', 3, 'PaymentMade', { amount: 19, currency: 'EUR' }),
    ];
    await sendAll([item, checkout]);
    const delivery = h.send(payment);
    h.fulfillment.failNext('ensureStarted', new Error('durable extension unavailable'));
    await assert.rejects(h.deliver(delivery), /durable extension unavailable/);
    assert.equal(h.fulfillment.started.has('b-heal'), false);
    assert.equal((await orderView(h, 'b-heal')).status, 'Paid', 'the payment itself was saved');

    await h.deliver(h.redelivery(delivery));
    assert.deepEqual(h.fulfillment.started.get('b-heal'), {
      basketId: 'b-heal',
      lines: [{ sku: 'SKU-1', quantity: 2 }],
      nextSequence: 4,
    });
    const view = await orderView(h, 'b-heal');
    assert.deepEqual(
      view.applied.map((entry) => entry.sequence),
      [1, 2, 3],
    );
    assert.deepEqual(
      view.duplicates.map((entry) => [entry.sequence, entry.deliveryCount]),
      [[3, 2]],
    );
  });
});
