import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import { startEmulator, type RunningEmulator } from '@convoy/servicebus-emulator';
import { administrationClientFor, ServiceBusQueueBacklog } from '../../../src/adapters/serviceBusBacklog';

/**
 * The overview's backlog through the real ServiceBusAdministrationClient against the emulator's
 * management API (plain HTTP on its AMQP port, chosen by UseDevelopmentEmulator=true).
 */

describe('ServiceBusQueueBacklog on the emulator', () => {
  let emulator: RunningEmulator;
  let client: ServiceBusClient;
  before(async () => {
    emulator = await startEmulator();
    client = new ServiceBusClient(emulator.connectionString);
  });
  after(async () => {
    await client.close();
    await emulator.close();
  });

  it('reads active, scheduled and dead-lettered counts of the queue', async () => {
    const queue = 'order-events';
    const sender = client.createSender(queue);
    await sender.sendMessages([
      { body: 'a', sessionId: 'b-1' },
      { body: 'b', sessionId: 'b-1' },
      { body: 'c', sessionId: 'b-2' },
    ]);
    await sender.scheduleMessages({ body: 'later', sessionId: 'b-3' }, new Date(Date.now() + 3_600_000));
    const receiver = await client.acceptSession(queue, 'b-2');
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
    assert.ok(message !== undefined);
    await receiver.deadLetterMessage(message, { deadLetterReason: 'test', deadLetterErrorDescription: 'forced' });
    await receiver.close();

    const backlog = new ServiceBusQueueBacklog(
      () => administrationClientFor({ kind: 'connectionString', connectionString: emulator.connectionString }),
      queue,
    );
    assert.deepEqual(await backlog.read(), { active: 2, scheduled: 1, deadLettered: 1 });
  });

  it('fails with the service error for a queue that does not exist', async () => {
    const backlog = new ServiceBusQueueBacklog(
      () => administrationClientFor({ kind: 'connectionString', connectionString: emulator.connectionString }),
      'no-such-queue',
    );
    await assert.rejects(backlog.read(), /no-such-queue|not found|NotFound/i);
  });
});
