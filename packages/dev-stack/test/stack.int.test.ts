import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import { startBackingServices, startConvoy } from '@convoy/dev-stack';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

describe('startConvoy: Azurite + emulator + host wired together', () => {
  it('wires the connection settings, survives a host crash and restart, and stops every piece', async () => {
    const convoy = await startConvoy({
      appRoot: join(__dirname, '..', '..', '..', 'packages', 'functions-host', 'test', 'host', 'fixtures', 'app'),
      port: 0,
      log: () => undefined,
      emulatorConfig: {
        UserConfig: {
          Namespaces: [
            {
              Name: 'sbemulatorns',
              Queues: [
                { Name: 'fixture-sessions', Properties: { RequiresSession: true } },
                { Name: 'fixture-plain', Properties: {} },
              ],
              Topics: [],
            },
          ],
        },
      },
    });
    const client = new ServiceBusClient(convoy.emulator.connectionString);
    try {
      assert.equal(process.env.ServiceBusConnection, convoy.emulator.connectionString);
      assert.equal(process.env.AzureWebJobsStorage, convoy.azurite.connectionString);
      assert.equal(process.env.OrderStoreConnection, convoy.azurite.connectionString);
      assert.ok(await portOpen(convoy.azurite.tablePort));

      const firstHost = convoy.host;
      await convoy.restartHost('kill');
      assert.notEqual(convoy.host, firstHost);
      const seen: string[] = [];
      convoy.host.onInvocation((event) => seen.push(event.messageId ?? ''));
      await client
        .createSender('fixture-sessions')
        .sendMessages({ sessionId: 'after-restart', messageId: 'm-1', body: {} });
      const deadline = Date.now() + 10_000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(seen, ['m-1']);
      assert.equal((await fetch(`${convoy.url}/api/items/3`)).status, 200);
    } finally {
      await client.close();
      await convoy.stop();
    }
    assert.equal(await portOpen(convoy.azurite.tablePort), false, 'Azurite still listens after stop()');
    assert.equal(await portOpen(convoy.emulator.port), false, 'the emulator still listens after stop()');
  });
});

describe('startBackingServices', () => {
  it('restarts the emulator on the same port with its data directory: settings stay valid, messages stay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convoy-backing-'));
    const services = await startBackingServices({ emulatorDataDir: dir });
    try {
      const connectionString = services.connectionSettings.ServiceBusConnection ?? '';
      const before = services.emulator;
      const send = new ServiceBusClient(connectionString);
      await send.createSender('order-events').sendMessages({ body: 'kept', sessionId: 'restart-1' });
      await send.close();
      await services.restartEmulator(50);
      assert.notEqual(services.emulator, before, 'a new emulator is running');
      assert.equal(services.emulator.port, before.port);
      assert.equal(services.emulator.connectionString, connectionString);
      const receive = new ServiceBusClient(connectionString);
      try {
        const receiver = await receive.acceptSession('order-events', 'restart-1');
        const messages = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
        assert.deepEqual(
          messages.map((m) => m.body as unknown),
          ['kept'],
        );
        for (const message of messages) await receiver.completeMessage(message);
      } finally {
        await receive.close();
      }
    } finally {
      await services.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
