import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import { createSasToken } from '../src/cbs';
import { emulatorKey } from '../src/index';
import { entityStats, errorCode, fastRetry, startHarness, type Harness } from './helpers';

describe('emulator send path, duplicate detection and refusals', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ manualClock: true });
  });
  after(async () => {
    await h.close();
  });

  it('drops a duplicate message id inside the window and accepts it again after', async () => {
    const sender = h.client.createSender('orders');
    await sender.sendMessages({ body: 'v1', sessionId: 'dup', messageId: 'evt-1' });
    await sender.sendMessages({ body: 'v2', sessionId: 'dup', messageId: 'evt-1' });
    const batch = await sender.createMessageBatch();
    batch.tryAddMessage({ body: 'v3', sessionId: 'dup', messageId: 'evt-1' });
    batch.tryAddMessage({ body: 'other', sessionId: 'dup', messageId: 'evt-2' });
    await sender.sendMessages(batch);
    assert.equal(entityStats(h, 'orders').active, 2);
    h.clock!.advance(60_001);
    await sender.sendMessages({ body: 'v4', sessionId: 'dup', messageId: 'evt-1' });
    const receiver = await h.client.acceptSession('orders', 'dup');
    const got = await receiver.receiveMessages(10, { maxWaitTimeInMs: 300 });
    assert.deepEqual(
      got.map((m): unknown => m.body),
      ['v1', 'other', 'v4'],
    );
    for (const m of got) await receiver.completeMessage(m);
    await receiver.close();
  });

  it('refuses a message without a session id on a session queue', async () => {
    await assert.rejects(h.client.createSender('orders').sendMessages({ body: 'no session' }), (e: unknown) => {
      assert.equal(errorCode(e), 'GeneralError'); // how the SDK reports amqp:not-allowed
      assert.match(String(e), /SessionId was not set/);
      return true;
    });
    assert.equal(entityStats(h, 'orders').active, 0);
  });

  it('refuses an unknown entity with MessagingEntityNotFound', async () => {
    await assert.rejects(
      h.client.createSender('no-such-queue').sendMessages({ body: 'x' }),
      (e: unknown) => errorCode(e) === 'MessagingEntityNotFound',
    );
    await assert.rejects(
      h.client.createReceiver('no-such-queue').receiveMessages(1, { maxWaitTimeInMs: 200 }),
      (e: unknown) => errorCode(e) === 'MessagingEntityNotFound',
    );
  });

  it('refuses messages over 256 KB', async () => {
    await assert.rejects(
      h.client.createSender('plain').sendMessages({ body: Buffer.alloc(300 * 1024, 1) }),
      (e: unknown) => errorCode(e) === 'MessageSizeExceeded',
    );
    assert.equal(entityStats(h, 'plain').active, 0);
  });

  it('refuses a wrong key and an expired token with UnauthorizedAccess', async () => {
    const wrongKey = h.emulator.connectionString.replace('SAS_KEY_VALUE', 'not-the-key');
    const wrong = new ServiceBusClient(wrongKey, fastRetry);
    await assert.rejects(wrong.createSender('plain').sendMessages({ body: 'x' }), (e: unknown) => {
      assert.equal(errorCode(e), 'UnauthorizedAccess');
      assert.match(String(e), /signature does not match/);
      return true;
    });
    await wrong.close();

    const audience = `sb://localhost:${h.emulator.port}/plain`;
    const expired = createSasToken(audience, emulatorKey, Math.floor(Date.now() / 1000) - 60);
    const withExpired = new ServiceBusClient(
      `Endpoint=sb://localhost:${h.emulator.port};SharedAccessSignature=${expired};UseDevelopmentEmulator=true`,
      fastRetry,
    );
    await assert.rejects(withExpired.createSender('plain').sendMessages({ body: 'x' }), (e: unknown) => {
      assert.equal(errorCode(e), 'UnauthorizedAccess');
      assert.match(String(e), /expired/);
      return true;
    });
    await withExpired.close();
    assert.equal(entityStats(h, 'plain').active, 0);
  });
});
