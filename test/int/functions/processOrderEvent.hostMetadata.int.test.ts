import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTriggerMetadata } from '../../../src/functions/processOrderEvent';
import { orderViewContract, paidBasket, quarantineListContract } from './support/basket';
import { startConvoyHarness, type ConvoyHarness } from './support/convoyHarness';
import { invocationFor, type LogLine } from './support/serviceBusDelivery';

/**
 * What the handler really receives on Azure: the host sends the Service Bus binding data as RPC
 * typed data and the @azure/functions library converts it (camelCases keys, and JSON-parses every
 * `string` value it can). These tests run that very conversion (support/workerConversion.ts).
 */

describe('processOrderEvent: trigger metadata as the host and the library deliver it', () => {
  let h: ConvoyHarness;
  before(async () => {
    h = await startConvoyHarness();
  });
  after(async () => {
    await h.close();
  });

  it('the handler reads session id, message id, delivery count, sequence number and enqueue time from it', async () => {
    const logs: LogLine[] = [];
    const enqueued = new Date('2026-03-01T08:30:00.125Z');
    const { message, context } = await invocationFor(
      {
        body: paidBasket('b-facts')[0],
        messageId: 'b-facts:1',
        deliveryCount: 3,
        sequenceNumber: 4_503_599_627_370_497,
        enqueuedTimeUtc: enqueued,
        applicationProperties: { eventType: 'ItemAdded', sequence: 1, basketId: 'b-facts' },
      },
      logs,
    );
    assert.deepEqual(message, paidBasket('b-facts')[0], 'a JSON body arrives parsed');
    assert.deepEqual(parseTriggerMetadata(context.triggerMetadata), {
      sessionId: 'b-facts',
      messageId: 'b-facts:1',
      deliveryCount: 3,
      sequenceNumber: '4503599627370497',
      enqueuedTimeUtc: '2026-03-01T08:30:00.1250000Z',
    });
  });

  it('a basket whose id looks like a number (e.g. an order number "1001") is processed, not quarantined', async () => {
    const [first] = paidBasket('1001');
    await h.deliver(h.send(first));

    const quarantine = quarantineListContract.parse((await h.listQuarantine(100)).body);
    assert.deepEqual(
      quarantine.messages.filter((m) => m.messageId === '1001:1').map((m) => m.reason),
      [],
      'the event must not be quarantined',
    );
    const answer = await h.getOrder('1001');
    assert.equal(answer.status, 200);
    assert.equal(orderViewContract.parse(answer.body).lastAppliedSequence, 1);
  });

  it("a poison message with a numeric message id (a foreign producer's counter) is quarantined once across redeliveries", async () => {
    const delivery = h.send("a foreign producer's payload", { sessionId: 'b-foreign', messageId: '7001' });
    await h.deliver(delivery);
    await h.deliver(h.redelivery(delivery));

    const quarantine = quarantineListContract.parse((await h.listQuarantine(100)).body);
    assert.deepEqual(
      quarantine.messages.filter((m) => m.sessionId === 'b-foreign').map((m) => [m.messageId, m.deliveryCount]),
      [['7001', 1]],
    );
  });
});
