import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { entityStats, startHarness, type Harness } from './helpers';

describe('emulator topics and subscriptions', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  async function bodiesOf(subscription: string): Promise<string[]> {
    const receiver = h.client.createReceiver('events', subscription);
    const got = await receiver.receiveMessages(10, { maxWaitTimeInMs: 300 });
    for (const m of got) await receiver.completeMessage(m);
    await receiver.close();
    return got.map((m) => String(m.body));
  }

  it('fans out to every subscription whose correlation or SQL filter matches', async () => {
    await h.client.createSender('events').sendMessages([
      { body: 'A', sessionId: 's', subject: 'BasketCheckedOut', applicationProperties: { region: 'eu', tier: 'gold' } },
      { body: 'B', sessionId: 's', subject: 'ItemAdded', applicationProperties: { region: 'eu' } },
      {
        body: 'C',
        sessionId: 's',
        subject: 'BasketCheckedOut',
        applicationProperties: { region: 'us', tier: 'silver' },
      },
    ]);
    assert.deepEqual(await bodiesOf('all'), ['A', 'B', 'C']);
    assert.deepEqual(await bodiesOf('checkouts'), ['A']);
    assert.deepEqual(await bodiesOf('vip'), ['A']);
    const session = await h.client.acceptSession('events', 'by-session', 's');
    const got = await session.receiveMessages(10, { maxWaitTimeInMs: 300 });
    assert.deepEqual(
      got.map((m): unknown => m.body),
      ['A', 'B', 'C'],
    );
    for (const m of got) await session.completeMessage(m);
    await session.close();
  });

  it('schedules a topic message into every matching subscription and cancels all copies', async () => {
    const sender = h.client.createSender('events');
    const [seq] = await sender.scheduleMessages({ body: 'later', sessionId: 's' }, new Date(Date.now() + 3_600_000));
    assert.equal(entityStats(h, 'events/Subscriptions/all').scheduled, 1);
    assert.equal(entityStats(h, 'events/Subscriptions/by-session').scheduled, 1);
    await sender.cancelScheduledMessages(seq!);
    assert.equal(entityStats(h, 'events/Subscriptions/all').scheduled, 0);
    assert.equal(entityStats(h, 'events/Subscriptions/by-session').scheduled, 0);
  });
});
