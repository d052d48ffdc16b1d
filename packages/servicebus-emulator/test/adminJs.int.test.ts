import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ServiceBusAdministrationClient } from '@azure/service-bus';
import { errorCode, single, startHarness, type Harness } from './helpers';

/**
 * The JS ServiceBusAdministrationClient against the emulator's management API: every description it
 * reads (queue, topic, subscription, runtime properties, namespace) has the fields its deserializers
 * require. The JS client always builds https:// URLs; the emulator serves plain HTTP on its AMQP port,
 * so one pipeline policy turns the scheme back (the .NET client does this itself with
 * UseDevelopmentEmulator=true, see dotnet/AdministrationTests.cs).
 */
describe('emulator management API through the JS ServiceBusAdministrationClient', () => {
  let h: Harness;
  let admin: ServiceBusAdministrationClient;
  before(async () => {
    h = await startHarness();
    admin = new ServiceBusAdministrationClient(h.emulator.connectionString);
    admin.pipeline.addPolicy({
      name: 'emulatorPlainHttp',
      sendRequest: (request, next) => {
        request.url = request.url.replace(/^https:/, 'http:');
        request.allowInsecureConnection = true;
        return next(request);
      },
    });
  });
  after(async () => {
    await h.close();
  });

  async function all<T>(pages: AsyncIterable<T>): Promise<T[]> {
    const items: T[] = [];
    for await (const item of pages) items.push(item);
    return items;
  }

  it('creates, gets, lists and deletes a subscription; its default rule routes messages', async () => {
    const created = await admin.createSubscription('events', 'eu-checkouts', {
      requiresSession: true,
      lockDuration: 'PT30S',
      maxDeliveryCount: 4,
      deadLetteringOnMessageExpiration: true,
      defaultRuleOptions: {
        name: 'eu',
        filter: { subject: 'BasketCheckedOut', applicationProperties: { region: 'eu' } },
      },
    });
    assert.equal(created.subscriptionName, 'eu-checkouts');
    assert.equal(created.topicName, 'events');
    assert.equal(created.requiresSession, true);
    assert.equal(created.lockDuration, 'PT30S');
    assert.equal(created.maxDeliveryCount, 4);
    assert.equal(created.deadLetteringOnMessageExpiration, true);
    assert.equal(created.status, 'Active');
    assert.equal(created.availabilityStatus, 'Available');
    assert.equal(created.autoDeleteOnIdle, 'P10675199DT2H48M5.4775807S');

    const got = await admin.getSubscription('events', 'eu-checkouts');
    assert.deepEqual(
      [got.subscriptionName, got.requiresSession, got.maxDeliveryCount, got.availabilityStatus],
      ['eu-checkouts', true, 4, 'Available'],
    );
    const listed = await all(admin.listSubscriptions('events'));
    assert.ok(listed.some((s) => s.subscriptionName === 'eu-checkouts'));
    assert.equal(await admin.subscriptionExists('events', 'eu-checkouts'), true);

    const sender = h.client.createSender('events');
    await sender.sendMessages([
      { body: 'us', subject: 'BasketCheckedOut', sessionId: 's-1', applicationProperties: { region: 'us' } },
      { body: 'eu', subject: 'BasketCheckedOut', sessionId: 's-1', applicationProperties: { region: 'eu' } },
    ]);
    const runtime = await admin.getSubscriptionRuntimeProperties('events', 'eu-checkouts');
    assert.equal(runtime.activeMessageCount, 1, 'only the message the rule selects');
    const session = await h.client.acceptSession('events', 'eu-checkouts', 's-1');
    const received = single(await session.receiveMessages(1, { maxWaitTimeInMs: 2000 }));
    assert.equal(received.body, 'eu');
    await session.completeMessage(received);
    await session.close();

    await admin.deleteSubscription('events', 'eu-checkouts');
    assert.equal(await admin.subscriptionExists('events', 'eu-checkouts'), false);
  });

  it('reads every configured subscription, with and without messages', async () => {
    const listed = await all(admin.listSubscriptions('events'));
    assert.deepEqual(
      listed.map((s) => [s.subscriptionName, s.requiresSession]),
      [
        ['all', false],
        ['checkouts', false],
        ['vip', false],
        ['by-session', true],
      ],
    );
    const runtime = await all(admin.listSubscriptionsRuntimeProperties('events'));
    assert.equal(runtime.length, 4);
  });

  it('reads the rules routing applies: correlation, SQL, the default rule; refuses to change them', async () => {
    const [correlation] = await all(admin.listRules('events', 'checkouts'));
    assert.deepEqual(
      { name: correlation?.name, filter: correlation?.filter },
      {
        name: 'only-checkouts',
        filter: {
          subject: 'BasketCheckedOut',
          applicationProperties: { region: 'eu' },
          correlationId: undefined,
          messageId: undefined,
          to: undefined,
          replyTo: undefined,
          replyToSessionId: undefined,
          sessionId: undefined,
          contentType: undefined,
        },
      },
    );
    const sql = await admin.getRule('events', 'vip', 'sql');
    assert.deepEqual(sql.filter, { sqlExpression: "tier = 'gold'", sqlParameters: undefined });
    const defaults = await all(admin.listRules('events', 'all'));
    assert.deepEqual(
      defaults.map((r) => [r.name, r.filter]),
      [['$Default', { sqlExpression: '1=1', sqlParameters: undefined }]],
    );
    await assert.rejects(
      admin.getRule('events', 'vip', 'missing'),
      (e: unknown) => errorCode(e) === 'MessageEntityNotFoundError',
    );
    await assert.rejects(
      admin.createRule('events', 'vip', 'more', { sqlExpression: '1=1' }),
      (e: unknown) => e instanceof Error && /rules is not supported by the emulator/.test(e.message),
    );
  });

  it('creates, gets and lists queues and topics with their runtime properties', async () => {
    const queue = await admin.createQueue('js-admin-queue', { requiresSession: true, maxDeliveryCount: 5 });
    assert.deepEqual(
      [queue.name, queue.requiresSession, queue.maxDeliveryCount, queue.availabilityStatus, queue.status],
      ['js-admin-queue', true, 5, 'Available', 'Active'],
    );
    assert.equal((await admin.getQueue('plain')).lockDuration, 'PT5S');
    assert.ok((await all(admin.listQueues())).some((q) => q.name === 'js-admin-queue'));
    await h.client.createSender('js-admin-queue').sendMessages({ body: 1, sessionId: 'a' });
    assert.equal((await admin.getQueueRuntimeProperties('js-admin-queue')).activeMessageCount, 1);
    await admin.deleteQueue('js-admin-queue');
    assert.equal(await admin.queueExists('js-admin-queue'), false);

    const topic = await admin.createTopic('js-admin-topic');
    assert.deepEqual([topic.name, topic.availabilityStatus], ['js-admin-topic', 'Available']);
    assert.equal((await admin.getTopicRuntimeProperties('events')).subscriptionCount, 4);
    assert.ok((await all(admin.listTopics())).some((t) => t.name === 'js-admin-topic'));
    await admin.deleteTopic('js-admin-topic');

    const namespace = await admin.getNamespaceProperties();
    assert.equal(namespace.name, 'sbemulatorns');
    assert.equal(namespace.messagingSku, 'Standard');
  });
});
