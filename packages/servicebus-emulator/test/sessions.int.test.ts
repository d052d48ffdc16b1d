import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import { entityStats, errorCode, eventually, single, startHarness, type Harness } from './helpers';

describe('emulator sessions (driven by @azure/service-bus)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('delivers a session FIFO to the one receiver that accepted it, with locked-until and the session id', async () => {
    const sender = h.client.createSender('orders');
    await sender.sendMessages([
      { body: 'a1', sessionId: 'fifo-a', messageId: 'fifo-a-1' },
      { body: 'b1', sessionId: 'fifo-b', messageId: 'fifo-b-1' },
      { body: 'a2', sessionId: 'fifo-a', messageId: 'fifo-a-2' },
    ]);
    const batch = await sender.createMessageBatch();
    assert.ok(batch.tryAddMessage({ body: 'a3', sessionId: 'fifo-a', messageId: 'fifo-a-3' }));
    await sender.sendMessages(batch);

    const receiver = await h.client.acceptSession('orders', 'fifo-a');
    assert.equal(receiver.sessionId, 'fifo-a');
    assert.ok(receiver.sessionLockedUntilUtc.getTime() > Date.now());
    const messages = await receiver.receiveMessages(10, { maxWaitTimeInMs: 500 });
    assert.deepEqual(
      messages.map((m): unknown => m.body),
      ['a1', 'a2', 'a3'],
    );
    assert.ok(messages.every((m) => m.sessionId === 'fifo-a'));
    const seqs = messages.map((m) => m.sequenceNumber?.toNumber() ?? -1);
    assert.deepEqual(
      [...seqs].sort((x, y) => x - y),
      seqs,
    );
    for (const m of messages) await receiver.completeMessage(m);
    await receiver.close();

    const next = await h.client.acceptNextSession('orders');
    assert.equal(next.sessionId, 'fifo-b');
    const [b] = await next.receiveMessages(1, { maxWaitTimeInMs: 500 });
    assert.equal(b?.body, 'b1');
    await next.completeMessage(b);
    await next.close();
    await sender.close();
  });

  it('lets exactly one of two receivers racing for the same session lock it', async () => {
    await h.client.createSender('orders').sendMessages({ body: 'x', sessionId: 'contested' });
    const results = await Promise.allSettled([
      h.client.acceptSession('orders', 'contested'),
      h.client.acceptSession('orders', 'contested'),
    ]);
    const winners = results.filter((r) => r.status === 'fulfilled');
    const losers = results.filter((r) => r.status === 'rejected');
    assert.equal(winners.length, 1);
    assert.equal(losers.length, 1);
    assert.equal(errorCode(losers[0]?.reason), 'SessionCannotBeLocked');
    const owner = entityStats(h, 'orders').sessions.find((s) => s.id === 'contested')?.owner;
    assert.ok(owner !== undefined);
    const winner = winners[0]!.value;
    const [m] = await winner.receiveMessages(1, { maxWaitTimeInMs: 500 });
    await winner.completeMessage(m!);
    await winner.close();
    await eventually(
      () => entityStats(h, 'orders').sessions.every((s) => s.id !== 'contested'),
      'session released and forgotten',
    );
  });

  it('holds a next-available accept until a session with messages is free', async () => {
    const accepting = h.client.acceptNextSession('orders');
    await eventually(() => entityStats(h, 'orders').waitingAcceptors === 1, 'accept parked');
    await h.client.createSender('orders').sendMessages({ body: 'late', sessionId: 'late-session' });
    const receiver = await accepting;
    assert.equal(receiver.sessionId, 'late-session');
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 });
    assert.equal(m?.body, 'late');
    await receiver.completeMessage(m);
    await receiver.close();
  });

  it('times a next-available accept out with com.microsoft:timeout when no session frees up', async () => {
    const impatient = new ServiceBusClient(h.emulator.connectionString, {
      retryOptions: { maxRetries: 0, timeoutInMs: 1500 },
    });
    const started = Date.now();
    await assert.rejects(
      impatient.acceptNextSession('orders'),
      (error: unknown) => errorCode(error) === 'ServiceTimeout',
    );
    const took = Date.now() - started;
    assert.ok(took < 1500 && took > 1000, `timed out after ${took} ms`);
    assert.equal(entityStats(h, 'orders').waitingAcceptors, 0);
    await impatient.close();
  });

  it('gets and sets session state on the locked session', async () => {
    await h.client.createSender('orders').sendMessages({ body: 's', sessionId: 'stateful' });
    const receiver = await h.client.acceptSession('orders', 'stateful');
    assert.equal(await receiver.getSessionState(), null);
    await receiver.setSessionState({ parked: [3, 4] });
    assert.deepEqual(await receiver.getSessionState(), { parked: [3, 4] });
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 });
    await receiver.completeMessage(m!);
    await receiver.close();
    const again = await h.client.acceptSession('orders', 'stateful');
    assert.deepEqual(await again.getSessionState(), { parked: [3, 4] });
    await again.setSessionState(null);
    await again.close();
  });

  it('abandon puts the message back at the head of its session with delivery count + 1', async () => {
    await h.client.createSender('orders').sendMessages([
      { body: 'first', sessionId: 'retry' },
      { body: 'second', sessionId: 'retry' },
    ]);
    const receiver = await h.client.acceptSession('orders', 'retry');
    const [first] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 });
    assert.equal(first?.deliveryCount, 0);
    await receiver.abandonMessage(first);
    const again = single(await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 }));
    assert.equal(again.body, 'first');
    assert.equal(again.deliveryCount, 1);
    await receiver.completeMessage(again);
    const [second] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 });
    assert.equal(second?.body, 'second');
    await receiver.completeMessage(second);
    await receiver.close();
  });

  it('answers the drain of an empty receive promptly and keeps the session', async () => {
    await h.client.createSender('orders').sendMessages({ body: 'only', sessionId: 'drain' });
    const receiver = await h.client.acceptSession('orders', 'drain');
    const [m] = await receiver.receiveMessages(5, { maxWaitTimeInMs: 300 });
    assert.equal(m?.body, 'only');
    await receiver.completeMessage(m);
    const started = Date.now();
    const none = await receiver.receiveMessages(5, { maxWaitTimeInMs: 200 });
    const took = Date.now() - started;
    assert.equal(none.length, 0);
    assert.ok(took < 390, `empty receive took ${took} ms (the SDK gives a drain 200 ms before closing the link)`);
    await h.client.createSender('orders').sendMessages({ body: 'still-mine', sessionId: 'drain' });
    const [later] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 1000 });
    assert.equal(later?.body, 'still-mine');
    await receiver.completeMessage(later);
    await receiver.close();
  });

  it('keeps one session link flowing past the 2048 unsettled-delivery window of an AMQP session', async () => {
    const sender = h.client.createSender('orders');
    const total = 2600;
    let sent = 0;
    while (sent < total) {
      const batch = await sender.createMessageBatch();
      while (sent < total && batch.tryAddMessage({ body: sent, sessionId: 'long-lived' })) sent++;
      await sender.sendMessages(batch);
    }
    const receiver = await h.client.acceptSession('orders', 'long-lived');
    let expected = 0;
    while (expected < total) {
      const got = await receiver.receiveMessages(400, { maxWaitTimeInMs: 1000 });
      assert.ok(got.length > 0, `stalled after ${expected} messages`);
      for (const m of got) assert.equal(m.body, expected++);
      await Promise.all(got.map((m) => receiver.completeMessage(m)));
    }
    await receiver.close();
  });

  it('serves many sessions in parallel, each in order', async () => {
    const sender = h.client.createSender('orders');
    const sessions = Array.from({ length: 8 }, (_, i) => `par-${i}`);
    const batch = await sender.createMessageBatch();
    for (let n = 0; n < 5; n++) for (const id of sessions) assert.ok(batch.tryAddMessage({ body: n, sessionId: id }));
    await sender.sendMessages(batch);
    const seen = new Map<string, number[]>();
    await Promise.all(
      sessions.map(async () => {
        const receiver = await h.client.acceptNextSession('orders');
        const got: number[] = [];
        while (got.length < 5) {
          for (const m of await receiver.receiveMessages(5, { maxWaitTimeInMs: 300 })) {
            got.push(Number(m.body));
            await receiver.completeMessage(m);
          }
        }
        seen.set(receiver.sessionId, got);
        await receiver.close();
      }),
    );
    assert.deepEqual([...seen.keys()].sort(), [...sessions].sort());
    for (const got of seen.values()) assert.deepEqual(got, [0, 1, 2, 3, 4]);
  });
});
