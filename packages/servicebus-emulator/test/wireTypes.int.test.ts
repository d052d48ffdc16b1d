import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as rhea from 'rhea';
import { createSasToken } from '../src/cbs';
import { emulatorKey } from '../src/index';
import { rawPayloadOf } from '../src/rheaInternals';
import { eventually, startHarness, type Harness } from './helpers';
import { connectRaw, waitFor, type RawClient } from '../src/rawClient';

/**
 * The wire details the .NET client (Azure.Messaging.ServiceBus, used by the Functions host) depends
 * on and the JS SDK does not notice: AMQP types of reply fields and application properties, refused
 * attaches, the released outcome. Checked on the encoded bytes the client received.
 */

interface TypedValue {
  type: { name: string };
  value: unknown;
  descriptor?: { value: unknown };
}
const amqpTypes = rhea.types as unknown as {
  Reader: new (buffer: Buffer) => { read(): TypedValue; remaining(): number };
  wrap_int(v: number): unknown;
  wrap_long(v: number): unknown;
  wrap_double(v: number): unknown;
  wrap_uuid(v: Buffer): unknown;
  wrap_ubyte(v: number): unknown;
};

/** name -> "AmqpType:value" of the application-properties section of an encoded message. */
function propertyTypes(raw: Buffer | undefined): Record<string, string> {
  assert.ok(raw !== undefined, 'the encoded bytes of the transfer are kept');
  const reader = new amqpTypes.Reader(raw);
  while (reader.remaining() > 0) {
    const section = reader.read();
    if (section.descriptor?.value !== 0x74) continue;
    const items = section.value as TypedValue[];
    const result: Record<string, string> = {};
    for (let i = 0; i + 1 < items.length; i += 2) {
      const value = items[i + 1];
      const shown = Buffer.isBuffer(value?.value) ? value.value.toString('hex') : JSON.stringify(value?.value);
      result[String(items[i]?.value)] = `${value?.type.name ?? '?'}:${shown}`;
    }
    return result;
  }
  return {};
}

/** rhea hands a null terminus over as null or as a typed Null. */
function isNull(value: unknown): boolean {
  return value === undefined || value === null || (value as Partial<TypedValue>).type?.name === 'Null';
}

const uuidBytes = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const typedProperties = {
  int: amqpTypes.wrap_int(-5),
  bigInt: amqpTypes.wrap_int(70_000),
  long: amqpTypes.wrap_long(7),
  double: amqpTypes.wrap_double(2),
  uuid: amqpTypes.wrap_uuid(uuidBytes),
  byte: amqpTypes.wrap_ubyte(9),
  text: 'plain',
};
const expectedTypes = {
  int: 'SmallInt:-5',
  bigInt: 'Int:70000',
  long: 'SmallLong:7',
  double: 'Double:2',
  uuid: `Uuid:${uuidBytes.toString('hex')}`,
  byte: 'Ubyte:9',
  text: 'Str8:"plain"',
};

describe('emulator wire types for the .NET client', () => {
  let h: Harness;
  let raw: RawClient;
  before(async () => {
    h = await startHarness();
    raw = await connectRaw(h.emulator.port);
  });
  after(async () => {
    await raw.close();
    await h.close();
  });

  /** Sends one message; resolves with the outcome's name and the settled delivery. */
  async function send(
    address: string,
    message: Record<string, unknown>,
  ): Promise<{ event: string; delivery: rhea.Delivery | undefined }> {
    await raw.authorize(address);
    const sender = raw.connection.open_sender(address);
    await waitFor(sender, 'sendable');
    const settled = new Promise<{ event: string; delivery: rhea.Delivery | undefined }>((resolve) => {
      for (const event of ['accepted', 'rejected', 'released', 'modified'])
        sender.once(event, (ctx: rhea.EventContext) => {
          resolve({ event, delivery: ctx.delivery });
        });
    });
    sender.send(message as unknown as rhea.Message);
    const outcome = await settled;
    sender.close();
    return outcome;
  }

  async function receiveOne(address: string): Promise<{ ctx: rhea.EventContext; receiver: rhea.Receiver }> {
    await raw.authorize(address);
    const receiver = raw.connection.open_receiver({
      source: { address },
      credit_window: 0,
      autoaccept: false,
      rcv_settle_mode: 1,
    });
    await waitFor(receiver, 'receiver_open');
    const arrived = waitFor<rhea.EventContext>(receiver, 'message');
    receiver.add_credit(1);
    return { ctx: await arrived, receiver };
  }

  async function putToken(token: (audience: string) => string): Promise<rhea.Message | undefined> {
    const cbs = raw.connection.open_sender('$cbs');
    const replyTo = `reply-${randomUUID()}`;
    const replies = raw.connection.open_receiver({ source: { address: '$cbs' }, target: { address: replyTo } });
    await Promise.all([waitFor(cbs, 'sendable'), waitFor(replies, 'receiver_open')]);
    const answered = waitFor<rhea.EventContext>(replies, 'message');
    const audience = `sb://localhost:${h.emulator.port}/plain`;
    cbs.send({
      message_id: randomUUID(),
      reply_to: replyTo,
      application_properties: { operation: 'put-token', name: audience, type: 'servicebus.windows.net:sastoken' },
      body: token(audience),
    });
    const reply = (await answered).message;
    cbs.close();
    replies.close();
    return reply;
  }

  /** Settles a received delivery and waits for the broker's answer (closing first would lose it). */
  async function settle(ctx: rhea.EventContext, action: (delivery: rhea.Delivery) => void): Promise<void> {
    const delivery = ctx.delivery;
    assert.ok(delivery !== undefined);
    action(delivery);
    await eventually(() => delivery.remote_settled, 'the broker settled the delivery');
  }

  it('answers put-token with status-code as AMQP int: 202 for a good key, 401 for a wrong one', async () => {
    const good = await putToken((audience) =>
      createSasToken(audience, emulatorKey, Math.floor(Date.now() / 1000) + 60),
    );
    assert.match(propertyTypes(rawPayloadOf(good))['status-code'] ?? '', /^(SmallInt|Int):202$/);
    const wrong = await putToken((audience) =>
      createSasToken(audience, { ...emulatorKey, value: 'wrong' }, Math.floor(Date.now() / 1000) + 60),
    );
    assert.match(propertyTypes(rawPayloadOf(wrong))['status-code'] ?? '', /^(SmallInt|Int):401$/);
  });

  it('answers $management with statusCode as int and errorCondition as symbol', async () => {
    const empty = await raw.request('plain', 'com.microsoft:peek-message', {
      'from-sequence-number': amqpTypes.wrap_long(1),
      'message-count': 1,
    });
    assert.match(propertyTypes(rawPayloadOf(empty)).statusCode ?? '', /^(SmallInt|Int):204$/);
    const failed = await raw.request('plain', 'com.microsoft:renew-lock', { 'lock-tokens': 'not-a-list' });
    const types = propertyTypes(rawPayloadOf(failed));
    assert.match(types.statusCode ?? '', /^(SmallInt|Int):400$/);
    assert.equal(types.errorCondition, 'Sym8:"com.microsoft:argument-error"');
  });

  it('keeps application property types of a single (non-batched) send, and through the dead-letter queue', async () => {
    const outcome = await send('plain', { message_id: 'typed-1', application_properties: typedProperties, body: 'x' });
    assert.equal(outcome.event, 'accepted');
    const { ctx, receiver } = await receiveOne('plain');
    assert.deepEqual(propertyTypes(rawPayloadOf(ctx.message)), expectedTypes);
    await settle(ctx, (d) => {
      d.reject({
        condition: 'com.microsoft:dead-letter',
        description: 'typed',
        info: { DeadLetterReason: 'checked', DeadLetterErrorDescription: 'types must survive' },
      });
    });
    receiver.close();
    const dead = await receiveOne('plain/$DeadLetterQueue');
    assert.deepEqual(propertyTypes(rawPayloadOf(dead.ctx.message)), {
      ...expectedTypes,
      DeadLetterReason: 'Str8:"checked"',
      DeadLetterErrorDescription: 'Str8:"types must survive"',
    });
    await settle(dead.ctx, (d) => {
      d.accept();
    });
    dead.receiver.close();
  });

  it('does not count a released delivery (AMQP released is not an abandon)', async () => {
    await send('plain', { message_id: 'released-1', body: 'r' });
    const first = await receiveOne('plain');
    assert.equal(first.ctx.message?.delivery_count, 0);
    await settle(first.ctx, (d) => {
      d.release();
    });
    first.receiver.close();
    const again = await receiveOne('plain');
    assert.equal(again.ctx.message?.message_id, 'released-1');
    assert.equal(again.ctx.message.delivery_count, 0);
    // An abandon (modified) still counts.
    await settle(again.ctx, (d) => {
      d.modified({ delivery_failed: true, undeliverable_here: false });
    });
    again.receiver.close();
    const third = await receiveOne('plain');
    assert.equal(third.ctx.message?.delivery_count, 1);
    await settle(third.ctx, (d) => {
      d.accept();
    });
    third.receiver.close();
  });

  it('refuses a message with an empty session id on a session queue', async () => {
    const outcome = await send('orders', { message_id: 'empty-session', group_id: '', body: 'e' });
    assert.equal(outcome.event, 'rejected');
    const state = outcome.delivery?.remote_state as { error?: { condition?: string } } | undefined;
    assert.equal(state?.error?.condition, 'amqp:not-allowed');
  });

  it('answers a refused attach with a null terminus (AMQP 1.0 §2.6.3)', async () => {
    await raw.authorize('missing-queue');
    const receiver = raw.connection.open_receiver({ source: { address: 'missing-queue' }, credit_window: 0 });
    await waitFor(receiver, 'receiver_close');
    const remote = (receiver as unknown as { remote: { attach?: { source?: unknown } } }).remote;
    assert.ok(isNull(remote.attach?.source), 'the refusing attach has a null source');
    assert.equal((receiver.error as { condition?: string } | undefined)?.condition, 'amqp:not-found');

    const sender = raw.connection.open_sender('missing-queue');
    await waitFor(sender, 'sender_close');
    const senderRemote = (sender as unknown as { remote: { attach?: { target?: unknown } } }).remote;
    assert.ok(isNull(senderRemote.attach?.target), 'the refusing attach has a null target');
  });
});
