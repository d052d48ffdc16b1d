import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConcurrencyConflictError, type OrderStore } from '../../../src/adapters/ports';
import type { OrderRecord } from '../../../src/domain/orderRecord';
import { FakeRetryClock } from '../../support/fakes';
import { paidBasket, quarantineListContract } from './support/basket';
import { orderView, startConvoyHarness, type ConvoyHarness } from './support/convoyHarness';

/**
 * A bug is not weather. The handler holds the message through a transient failure (storage down,
 * an ETag conflict) for up to TRANSIENT_HOLD_SECONDS; a programming error in the app (a TypeError)
 * must not be held as if storage were down: it is logged as an error with its stack and thrown at
 * once, so the host abandons the message and Service Bus's own redeliveries (then the dead-letter
 * queue after maxDeliveryCount) take over. The real Table adapters on Azurite; the bug sits in a
 * store wrapper, as it would in an adapter.
 */

/** The real store, whose replace fails once with `failure` (a bug of ours, or a conflict). */
function failingOnce(store: OrderStore, failure: () => Error): OrderStore & { failed: number } {
  let pending = true;
  const wrapper = {
    failed: 0,
    get: (basketId: string) => store.get(basketId),
    create: (record: OrderRecord) => store.create(record),
    replace: (record: OrderRecord, etag: string) => {
      if (!pending) return store.replace(record, etag);
      pending = false;
      wrapper.failed += 1;
      return Promise.reject(failure());
    },
  };
  return wrapper;
}

/** A TypeError as real code makes one: a field read off a value that is not there. */
function readOfMissingField(): Error {
  try {
    const lines = JSON.parse('{}') as { first: { sku: string } };
    return new Error(`not reached: ${lines.first.sku}`);
  } catch (error) {
    assert.ok(error instanceof TypeError);
    return error;
  }
}

describe('processOrderEvent: a bug is logged with its stack and abandoned at once, never held (real Table Storage)', () => {
  let h: ConvoyHarness;
  before(async () => {
    h = await startConvoyHarness();
  });
  after(async () => {
    await h.close();
  });

  it('holds a transient failure (an ETag conflict) and applies the message in the same call', async () => {
    const clock = new FakeRetryClock(0.5);
    const store = failingOnce(h.orders, () => new ConcurrencyConflictError('b-weather'));
    const handler = h.handlerWith(store, undefined, { cached: false, hold: { budgetMs: 240_000, clock } });
    const events = paidBasket('b-weather');
    for (const body of events.slice(0, 2)) await h.deliver(h.send(body));
    await h.deliver(h.send(events[2]), handler);
    assert.equal(store.failed, 1);
    assert.equal(clock.sleeps.length, 1, 'the conflict was held once, then the retry applied');
    assert.equal((await orderView(h, 'b-weather')).lastAppliedSequence, 3);
  });

  it('throws a TypeError at once with no hold, logs it as a bug with its stack; the redelivery after the fix applies it', async () => {
    const clock = new FakeRetryClock(0.5);
    const store = failingOnce(h.orders, readOfMissingField);
    const handler = h.handlerWith(store, undefined, { cached: false, hold: { budgetMs: 240_000, clock } });
    const events = paidBasket('b-bug');
    for (const body of events.slice(0, 2)) await h.deliver(h.send(body));
    const third = h.send(events[2]);
    const logsBefore = h.logs.length;

    await assert.rejects(h.deliver(third, handler), TypeError);
    assert.deepEqual(clock.sleeps, [], 'a bug is not held as if storage were down');
    const lines = h.logs.slice(logsBefore);
    assert.ok(!lines.some((log) => /outcome=held/.test(log.line)), lines.map((log) => log.line).join('\n'));
    const bug = lines.find((log) => /outcome=bug basket=b-bug sequence=3 /.test(log.line));
    assert.equal(bug?.level, 'error', lines.map((log) => log.line).join('\n'));
    assert.match(bug.line, /: TypeError: .+\n\s+at readOfMissingField /, 'the stack says where');

    const before = await orderView(h, 'b-bug');
    assert.equal(before.lastAppliedSequence, 2, 'nothing was recorded for the failed delivery');
    const quarantine = quarantineListContract.parse((await h.listQuarantine(100)).body);
    assert.deepEqual(
      quarantine.messages.filter((message) => message.sessionId === 'b-bug'),
      [],
      'a bug is not quarantined as poison',
    );

    await h.deliver(h.redelivery(third), handler);
    await h.deliver(h.send(events[3]), handler);
    const after = await orderView(h, 'b-bug');
    assert.deepEqual(
      after.applied.map((entry) => [entry.sequence, entry.deliveryCount]),
      [
        [1, 1],
        [2, 1],
        [3, 2],
        [4, 1],
      ],
    );
  });
});
