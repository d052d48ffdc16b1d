import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSasToken } from '../src/cbs';
import { emulatorKey } from '../src/index';
import { startHarness, type Harness } from './helpers';

/**
 * The management API on the emulator's AMQP port, called the way ServiceBusAdministrationClient
 * calls it (ATOM entries, SAS in Authorization, plain HTTP). dotnet/AdministrationTests.cs
 * drives the same endpoint with the real .NET client.
 */

const atom = 'http://www.w3.org/2005/Atom';
const sb = 'http://schemas.microsoft.com/netservices/2010/10/servicebus/connect';

function entry(description: string, fields: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><entry xmlns="${atom}"><content type="application/xml"><${description} xmlns="${sb}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">${fields}</${description}></content></entry>`;
}

describe('emulator management API (ATOM over HTTP on the AMQP port)', () => {
  let h: Harness;
  let base: string;
  before(async () => {
    h = await startHarness();
    base = `http://localhost:${String(h.emulator.port)}`;
  });
  after(async () => {
    await h.close();
  });

  async function call(
    method: string,
    path: string,
    body?: string,
    key = emulatorKey,
  ): Promise<{ status: number; text: string }> {
    const url = `${base}/${path}?api-version=2021-05`;
    const token = createSasToken(`${base}/${path}`, key, Math.floor(Date.now() / 1000) + 300);
    const response = await fetch(url, {
      method,
      headers: { authorization: token, 'content-type': 'application/atom+xml' },
      ...(body === undefined ? {} : { body }),
    });
    return { status: response.status, text: await response.text() };
  }

  const element = (xml: string, name: string): string | undefined =>
    new RegExp(`<(?:\\w+:)?${name}>([^<]*)</(?:\\w+:)?${name}>`).exec(xml)?.[1];

  it('creates a session queue at runtime that the SDK can then use, with live message counts', async () => {
    const created = await call(
      'PUT',
      'live-orders',
      entry(
        'QueueDescription',
        '<LockDuration>PT45S</LockDuration><RequiresSession>true</RequiresSession><MaxDeliveryCount>4</MaxDeliveryCount>',
      ),
    );
    assert.equal(created.status, 201, created.text);
    assert.equal(element(created.text, 'LockDuration'), 'PT45S');
    assert.equal(element(created.text, 'RequiresSession'), 'true');
    assert.equal(element(created.text, 'MaxDeliveryCount'), '4');

    await h.client.createSender('live-orders').sendMessages([
      { body: 1, sessionId: 'a' },
      { body: 2, sessionId: 'a' },
      { body: 3, sessionId: 'b' },
    ]);
    const got = await call('GET', 'live-orders');
    assert.equal(got.status, 200);
    assert.equal(element(got.text, 'MessageCount'), '3');
    assert.equal(element(got.text, 'ActiveMessageCount'), '3');

    const session = await h.client.acceptSession('live-orders', 'a');
    const received = await session.receiveMessages(5, { maxWaitTimeInMs: 300 });
    assert.deepEqual(
      received.map((m): unknown => m.body),
      [1, 2],
    );
    await session.deadLetterMessage(received[0] ?? assert.fail('no message'));
    await session.completeMessage(received[1] ?? assert.fail('no message'));
    await session.close();
    const after = await call('GET', 'live-orders');
    assert.equal(element(after.text, 'ActiveMessageCount'), '1');
    assert.equal(element(after.text, 'DeadLetterMessageCount'), '1');
  });

  it('lists queues, and maps a taken name to 409 and a missing one to 404', async () => {
    await call('PUT', 'listed', entry('QueueDescription', ''));
    const list = await call('GET', '$Resources/queues');
    assert.equal(list.status, 200);
    assert.match(list.text, /^<feed/);
    assert.ok(list.text.includes('<title type="text">listed</title>'), list.text);
    assert.equal((await call('PUT', 'listed', entry('QueueDescription', ''))).status, 409);
    assert.equal((await call('GET', 'no-such-queue')).status, 404);
    assert.equal((await call('DELETE', 'listed')).status, 200);
    assert.equal((await call('GET', 'listed')).status, 404);
    assert.equal((await call('DELETE', 'listed')).status, 404);
  });

  it('deletes a queue with its messages: sends to it then fail as not found', async () => {
    await call('PUT', 'short-lived', entry('QueueDescription', ''));
    const sender = h.client.createSender('short-lived');
    await sender.sendMessages({ body: 'x' });
    await sender.close();
    assert.equal((await call('DELETE', 'short-lived')).status, 200);
    await assert.rejects(h.client.createSender('short-lived').sendMessages({ body: 'y' }), /could not be found/);
  });

  it('creates a topic and filtered subscriptions at runtime; new subscriptions get later messages', async () => {
    assert.equal((await call('PUT', 'live-events', entry('TopicDescription', ''))).status, 201);
    const withRule = entry(
      'SubscriptionDescription',
      `<DefaultRuleDescription><Filter i:type="SqlFilter"><SqlExpression>kind = 'a'</SqlExpression></Filter><Name>only-a</Name></DefaultRuleDescription>`,
    );
    assert.equal((await call('PUT', 'live-events/Subscriptions/only-a', withRule)).status, 201);
    assert.equal(
      (await call('PUT', 'live-events/Subscriptions/every', entry('SubscriptionDescription', ''))).status,
      201,
    );
    await h.client.createSender('live-events').sendMessages([
      { body: 'A', applicationProperties: { kind: 'a' } },
      { body: 'B', applicationProperties: { kind: 'b' } },
    ]);
    const onlyA = await call('GET', 'live-events/Subscriptions/only-a');
    assert.equal(element(onlyA.text, 'MessageCount'), '1');
    const every = await call('GET', 'live-events/Subscriptions/every');
    assert.equal(element(every.text, 'MessageCount'), '2');
    const topic = await call('GET', 'live-events');
    assert.equal(element(topic.text, 'SubscriptionCount'), '2');
    const list = await call('GET', 'live-events/Subscriptions');
    assert.equal((list.text.match(/<entry>/g) ?? []).length, 2, list.text);

    assert.equal((await call('DELETE', 'live-events/Subscriptions/only-a')).status, 200);
    await h.client.createSender('live-events').sendMessages({ body: 'C', applicationProperties: { kind: 'a' } });
    assert.equal(element((await call('GET', 'live-events/Subscriptions/every')).text, 'MessageCount'), '3');
    assert.equal((await call('GET', 'live-events/Subscriptions/only-a')).status, 404);
    assert.equal((await call('DELETE', 'live-events')).status, 200);
    assert.equal((await call('GET', 'live-events/Subscriptions')).status, 404);
  });

  it('takes a correlation default rule, forwarding to an existing queue, and counts scheduled messages', async () => {
    assert.equal((await call('PUT', 'fwd-target', entry('QueueDescription', ''))).status, 201);
    const forwarding = await call(
      'PUT',
      'fwd-source',
      entry('QueueDescription', `<ForwardTo>${base}/fwd-target</ForwardTo>`),
    );
    assert.equal(forwarding.status, 201, forwarding.text);
    assert.equal(element(forwarding.text, 'ForwardTo'), `${base}/fwd-target`);
    const toNowhere = await call('PUT', 'fwd-bad', entry('QueueDescription', `<ForwardTo>${base}/nowhere</ForwardTo>`));
    assert.equal(toNowhere.status, 400);
    assert.match(toNowhere.text, /nowhere/);
    await h.client.createSender('fwd-source').sendMessages({ body: 'f' });
    assert.equal(element((await call('GET', 'fwd-target')).text, 'MessageCount'), '1');
    assert.equal(element((await call('GET', 'fwd-source')).text, 'MessageCount'), '0');
    await h.client.createSender('fwd-target').scheduleMessages({ body: 'later' }, new Date(Date.now() + 60_000));
    assert.equal(element((await call('GET', 'fwd-target')).text, 'ScheduledMessageCount'), '1');

    assert.equal((await call('PUT', 'corr-events', entry('TopicDescription', ''))).status, 201);
    const correlation = entry(
      'SubscriptionDescription',
      `<DefaultRuleDescription><Filter i:type="CorrelationFilter"><Label>Checkout</Label><Properties><KeyValueOfstringanyType><Key>region</Key><Value i:type="d6p1:string" xmlns:d6p1="http://www.w3.org/2001/XMLSchema">eu</Value></KeyValueOfstringanyType></Properties></Filter><Name>eu-checkouts</Name></DefaultRuleDescription>`,
    );
    assert.equal((await call('PUT', 'corr-events/Subscriptions/eu', correlation)).status, 201);
    await h.client.createSender('corr-events').sendMessages([
      { body: 1, subject: 'Checkout', applicationProperties: { region: 'eu' } },
      { body: 2, subject: 'Checkout', applicationProperties: { region: 'us' } },
      { body: 3, subject: 'ItemAdded', applicationProperties: { region: 'eu' } },
    ]);
    assert.equal(element((await call('GET', 'corr-events/Subscriptions/eu')).text, 'MessageCount'), '1');
    for (const name of ['fwd-source', 'fwd-target', 'corr-events']) await call('DELETE', name);
  });

  it('answers 401 to a wrong key or a missing token, 400 to bad input, 403 over the entity quota', async () => {
    const wrong = await call('GET', 'orders', undefined, { name: emulatorKey.name, value: 'not-the-key' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /InvalidSignature/);
    const anonymous = await fetch(`${base}/orders?api-version=2021-05`);
    assert.equal(anonymous.status, 401);

    const notXml = await call('PUT', 'broken', '<entry><content>');
    assert.equal(notXml.status, 400);
    assert.match(notXml.text, /not XML/);
    const badLock = await call('PUT', 'broken', entry('QueueDescription', '<LockDuration>soon</LockDuration>'));
    assert.equal(badLock.status, 400);
    assert.match(badLock.text, /LockDuration/);
    const badName = await call('PUT', 'bad%20name', entry('QueueDescription', ''));
    assert.equal(badName.status, 400);
    assert.equal((await call('GET', 'broken')).status, 404, 'nothing is created by a refused PUT');

    const created: string[] = [];
    let status = 201;
    for (let i = 0; status === 201 && i < 60; i++) {
      status = (await call('PUT', `filler-${String(i)}`, entry('QueueDescription', ''))).status;
      if (status === 201) created.push(`filler-${String(i)}`);
    }
    assert.equal(status, 403);
    assert.equal(h.emulator.stats().queues + h.emulator.stats().topics + h.emulator.stats().subscriptions, 50);
    for (const name of created) await call('DELETE', name);
  });
});
