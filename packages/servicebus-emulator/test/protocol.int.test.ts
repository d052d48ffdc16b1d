import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type * as rhea from 'rhea';
import { amqpFrame, lateDetach, lateDisposition, secondOpen } from './amqpBytes';
import { entityStats, eventually, single, startHarness, type Harness } from './helpers';
import { connectRaw, waitFor, type RawClient } from '../src/rawClient';

/** Bytes straight onto the client's socket: rhea itself never writes on a channel it has ended. */
function writeRaw(connection: rhea.Connection, bytes: Buffer): void {
  (connection as unknown as { socket: Socket }).socket.write(bytes);
}

/** A put-token round trip on the raw client's connection, failing at once if the emulator drops it. */
async function stillConnected(raw: RawClient): Promise<void> {
  const dropped = waitFor(raw.connection, 'disconnected').then(() => {
    throw new Error('the emulator dropped the connection');
  });
  await Promise.race([raw.authorize('plain'), dropped]);
}

/** Protocol corners the SDK cannot provoke on demand, driven by a bare rhea client. */
describe('emulator AMQP protocol corners', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  const nextAvailable = (connection: rhea.Connection, timeoutMs: number): rhea.Receiver =>
    connection.open_receiver({
      source: { address: 'orders', filter: { 'com.microsoft:session-filter': null } },
      properties: { 'com.microsoft:timeout': timeoutMs },
      rcv_settle_mode: 1,
      credit_window: 0,
      autoaccept: false,
    });

  it('forgets a parked next-available attach that the client detaches (gives up on)', async () => {
    const raw = await connectRaw(h.emulator.port);
    await raw.authorize('orders');
    const receiver = nextAvailable(raw.connection, 30_000);
    await eventually(() => entityStats(h, 'orders').waitingAcceptors === 1, 'accept parked');
    receiver.close();
    await eventually(() => entityStats(h, 'orders').waitingAcceptors === 0, 'parked accept forgotten');
    await h.client.createSender('orders').sendMessages({ body: 'for-the-next', sessionId: 'after-detach' });
    const next = await h.client.acceptNextSession('orders');
    assert.equal(next.sessionId, 'after-detach');
    const [m] = await next.receiveMessages(1, { maxWaitTimeInMs: 500 });
    await next.completeMessage(m!);
    await next.close();
    await raw.close();
  });

  it('forgets a parked attach when its connection drops', async () => {
    const raw = await connectRaw(h.emulator.port);
    await raw.authorize('orders');
    nextAvailable(raw.connection, 30_000);
    await eventually(() => entityStats(h, 'orders').waitingAcceptors === 1, 'accept parked');
    await raw.close();
    await eventually(() => entityStats(h, 'orders').waitingAcceptors === 0, 'parked accept forgotten');
  });

  it('discards a detach and a disposition sent on a session the client already ended, and keeps the connection', async () => {
    const raw = await connectRaw(h.emulator.port);
    await raw.authorize('plain');
    const session = raw.connection.create_session();
    session.begin();
    const receiver = session.attach_receiver({ source: { address: 'plain' }, credit_window: 0, autoaccept: false });
    await waitFor(receiver, 'receiver_open');
    const channel = (session as unknown as { local: { channel: number } }).local.channel;
    const ended = waitFor(session, 'session_close');
    session.close();
    // The emulator answered the end, so it has forgotten the channel when the late frames arrive.
    await ended;
    writeRaw(raw.connection, Buffer.concat([amqpFrame(channel, lateDetach), amqpFrame(channel, lateDisposition)]));
    await stillConnected(raw);
    assert.deepEqual(h.emulator.protocolErrors(), []);
    // A new session on the same channel number is served as usual.
    const next = raw.connection.create_session();
    next.begin();
    const again = next.attach_receiver({ source: { address: 'plain' }, credit_window: 0, autoaccept: false });
    await waitFor(again, 'receiver_open');
    assert.equal((next as unknown as { local: { channel: number } }).local.channel, channel);
    await raw.close();
  });

  it('applies the dispositions a client sent before its detach and end, even when all three arrive in one read', async () => {
    const sender = h.client.createSender('orders');
    await sender.sendMessages([
      { body: 'completed', sessionId: 'one-read', messageId: 'one-read:1' },
      { body: 'released', sessionId: 'one-read', messageId: 'one-read:2' },
    ]);
    const raw = await connectRaw(h.emulator.port);
    await raw.authorize('orders');
    const session = raw.connection.create_session();
    session.begin();
    const receiver = session.attach_receiver({
      source: { address: 'orders', filter: { 'com.microsoft:session-filter': 'one-read' } },
      rcv_settle_mode: 1,
      credit_window: 0,
      autoaccept: false,
    });
    await waitFor(receiver, 'receiver_open');
    const deliveries: rhea.Delivery[] = [];
    const both = new Promise<void>((resolve) =>
      receiver.on('message', (ctx: rhea.EventContext) => {
        if (ctx.delivery !== undefined) deliveries.push(ctx.delivery);
        if (deliveries.length === 2) resolve();
      }),
    );
    receiver.add_credit(2);
    await both;
    // A client that settles and closes in one go (the host's receiver releasing a message that met
    // its close): the disposition, the detach and the end leave in one write and arrive in one read.
    const socket = (raw.connection as unknown as { socket: Socket }).socket;
    const ended = waitFor(session, 'session_close');
    socket.cork();
    deliveries[0]?.accept();
    // A tick apart: rhea 3.0.5 writes two dispositions of one tick as one range with the first's outcome.
    await new Promise(setImmediate);
    deliveries[1]?.release();
    receiver.close();
    session.close();
    await new Promise(setImmediate);
    socket.uncork();
    await ended;

    const next = await h.client.acceptSession('orders', 'one-read');
    const [m] = await next.receiveMessages(2, { maxWaitTimeInMs: 2_000 });
    assert.equal(m?.messageId, 'one-read:2', 'the completed message is gone');
    assert.equal(m.deliveryCount, 0, 'a released delivery does not count');
    await next.completeMessage(m);
    await next.close();
    await raw.close();
  });

  it('still ends a connection that sends on a channel it never began, and records the protocol error', async (t) => {
    const printed = t.mock.method(console, 'error', () => undefined);
    const earlier = h.emulator.protocolErrors().length;
    const raw = await connectRaw(h.emulator.port);
    const dropped = waitFor(raw.connection, 'disconnected');
    writeRaw(raw.connection, amqpFrame(40, lateDetach));
    await dropped;
    const errors = h.emulator.protocolErrors().slice(earlier);
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /ProtocolError: detach received on invalid channel 40/);
    assert.deepEqual(
      printed.mock.calls.map((c) => c.arguments[0] as unknown),
      errors,
      'the emulator prints what it records',
    );
  });

  it('names the client in the protocol error of a connection that sends a second open', async (t) => {
    t.mock.method(console, 'error', () => undefined);
    const earlier = h.emulator.protocolErrors().length;
    const raw = await connectRaw(h.emulator.port);
    const dropped = waitFor(raw.connection, 'disconnected');
    const socket = (raw.connection as unknown as { socket: Socket }).socket;
    const local = `${String(socket.localAddress)}:${String(socket.localPort)}`;
    writeRaw(raw.connection, amqpFrame(0, secondOpen));
    await dropped;
    const errors = h.emulator.protocolErrors().slice(earlier);
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /ProtocolError: Open already received; connection \d+ \(client container /);
    assert.ok(errors[0]?.includes(`${String(raw.connection.options.container_id)}, ${local}`), errors[0]);
    assert.match(
      errors[0] ?? '',
      /its second open named client container again \(where the first named [^)]+\), from a client that names no product, \d+ ms after the socket was accepted, \d+ bytes read$/,
    );
  });

  it('lists sessions with messages or state through get-message-sessions', async () => {
    await h.client.createSender('orders').sendMessages([
      { body: 1, sessionId: 'listed-1' },
      { body: 2, sessionId: 'listed-2' },
    ]);
    const raw = await connectRaw(h.emulator.port);
    await raw.authorize('orders/$management');
    const reply = await raw.request('orders', 'com.microsoft:get-message-sessions', {
      'last-updated-time': new Date(0),
      skip: 0,
      top: 10,
    });
    const props: unknown = reply.application_properties;
    assert.deepEqual(props, { statusCode: 200, statusDescription: 'OK' });
    const body: unknown = reply.body;
    assert.ok(typeof body === 'object' && body !== null && 'sessions-ids' in body);
    assert.deepEqual(body['sessions-ids'], ['listed-1', 'listed-2']);
    await raw.close();
    for (const id of ['listed-1', 'listed-2']) {
      const r = await h.client.acceptSession('orders', id);
      const [m] = await r.receiveMessages(1, { maxWaitTimeInMs: 500 });
      await r.completeMessage(m!);
      await r.close();
    }
  });

  it('refuses a link to an entity without a put-token first (amqp:unauthorized-access)', async () => {
    const raw = await connectRaw(h.emulator.port);
    const receiver = raw.connection.open_receiver({ source: { address: 'plain' } });
    const closed = await waitFor<rhea.EventContext>(receiver, 'receiver_close');
    const error: unknown = closed.receiver?.error;
    assert.ok(typeof error === 'object' && error !== null && 'condition' in error);
    assert.equal(error.condition, 'amqp:unauthorized-access');
    await raw.close();
  });

  it('rejects an oversized transfer itself (not only the SDK) with amqp:link:message-size-exceeded', async () => {
    const raw = await connectRaw(h.emulator.port);
    await raw.authorize('plain');
    const sender = raw.connection.open_sender({ target: { address: 'plain' } });
    await waitFor(sender, 'sendable');
    assert.equal(sender.max_message_size, 262_144);
    const delivery = sender.send({ body: Buffer.alloc(300 * 1024, 7) });
    const rejected = await waitFor<rhea.EventContext>(sender, 'rejected');
    assert.equal(rejected.delivery, delivery);
    const state: unknown = delivery.remote_state;
    assert.ok(typeof state === 'object' && state !== null && 'error' in state);
    const error: unknown = state.error;
    assert.ok(typeof error === 'object' && error !== null && 'condition' in error);
    assert.equal(error.condition, 'amqp:link:message-size-exceeded');
    assert.equal(entityStats(h, 'plain').active, 0);
    await raw.close();
  });

  it('gives a message sent without an id one, as Service Bus does', async () => {
    await h.client.createSender('plain').sendMessages({ body: 'anonymous' });
    const receiver = h.client.createReceiver('plain');
    const m = single(await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 }));
    assert.match(String(m.messageId), /^[0-9a-f]{32}$/);
    await receiver.completeMessage(m);
    await receiver.close();
  });
});
