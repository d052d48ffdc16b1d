import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { basketIdSchema, eventIdFor } from '../../../src/domain/events';
import { basketMatchesSession } from '../../../src/domain/inbound';
import { makeProcessOrderEvent, processOrderEventName } from '../../../src/functions/processOrderEvent';
import { makePublishSessions } from '../../../src/functions/publishSessions';
import {
  InMemoryOrderStore,
  InMemoryQuarantineStore,
  ManualClock,
  RecordingEventPublisher,
  RecordingFulfillmentStarter,
} from '../../support/fakes';

/** What @azure/functions does to every string of trigger metadata: JSON-parse it when it can. */
function asTheLibraryHandsItOver(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

// Ids the contract allows that the library's parse changes, or (20 digits) loses precision on.
const jsonLookingIds = ['1e3', '1.50', '2.0', '0.0', 'true', 'false', 'null', '12345678901234567890', '1001', '007'];

describe('basket ids the library JSON-parses', () => {
  it('are all allowed by the contract (except "-0": ids start with a letter or digit)', () => {
    for (const id of jsonLookingIds) assert.ok(basketIdSchema.safeParse(id).success, id);
    assert.match(basketIdSchema.safeParse('-0').error?.issues[0]?.message ?? '', /basketId must be/);
  });

  it('match their own session id, whichever form it arrives in', () => {
    for (const id of jsonLookingIds) {
      const arrived = asTheLibraryHandsItOver(id);
      const parsed = typeof arrived === 'string' ? undefined : (arrived as number | boolean | null);
      assert.ok(basketMatchesSession(id, typeof arrived === 'string' ? arrived : JSON.stringify(arrived), parsed), id);
    }
  });

  it('do not match another basket', () => {
    assert.equal(basketMatchesSession('1.50', '1.25', 1.25), false);
    assert.equal(basketMatchesSession('true', 'false', false), false);
    assert.equal(basketMatchesSession('null', '0', 0), false);
    assert.equal(basketMatchesSession('0', '0', -0), false, '-0 and 0 are told apart');
    assert.equal(basketMatchesSession('abc', '1', 1), false, 'a basketId that is not JSON never equals a parsed id');
    assert.equal(basketMatchesSession('1.5', '1.50'), false, 'text is compared as text');
  });

  for (const id of jsonLookingIds) {
    it(`"${id}": its events are applied through the handler, nothing quarantined`, async () => {
      const { orders, quarantine, handler } = handlerOnFakes();
      const events = [
        { sequence: 1, type: 'ItemAdded', data: { sku: 'SKU-1', quantity: 1, unitPrice: 2 } },
        { sequence: 2, type: 'BasketCheckedOut', data: { currency: 'EUR' } },
      ];
      for (const { sequence, type, data } of events) {
        const body = {
          basketId: id,
          sequence,
          eventId: eventIdFor(id, sequence),
          type,
          occurredAt: '2026-01-01T10:00:00.000Z',
          data,
        };
        await handler(
          body,
          new InvocationContext({
            functionName: processOrderEventName,
            triggerMetadata: {
              sessionId: asTheLibraryHandsItOver(id),
              messageId: asTheLibraryHandsItOver(body.eventId),
              deliveryCount: 1,
              sequenceNumber: sequence,
            },
            logHandler: () => undefined,
          }),
        );
      }
      assert.equal(quarantine.size, 0, JSON.stringify(await quarantine.list(5)));
      assert.equal(orders.peek(id)?.lastAppliedSequence, 2);
      assert.equal(orders.peek(id)?.basketId, id);
    });
  }

  it('a body naming another basket than its parsed session id is quarantined with both ids', async () => {
    const { orders, quarantine, handler } = handlerOnFakes();
    const body = {
      basketId: '2.0',
      sequence: 1,
      eventId: eventIdFor('2.0', 1),
      type: 'ItemAdded',
      occurredAt: '2026-01-01T10:00:00.000Z',
      data: { sku: 'SKU-1', quantity: 1, unitPrice: 2 },
    };
    await handler(
      body,
      new InvocationContext({
        functionName: processOrderEventName,
        triggerMetadata: { sessionId: asTheLibraryHandsItOver('2.5'), messageId: '2.0:1', sequenceNumber: 1 },
        logHandler: () => undefined,
      }),
    );
    const [message] = await quarantine.list(1);
    assert.match(message?.reason ?? '', /basketId "2\.0" differs from the session id "2\.5"/);
    assert.equal(orders.writes.length, 0);
  });

  it('the producer publishes them, and refuses "-0" with 400 naming the field and the rule', async () => {
    const publisher = new RecordingEventPublisher();
    const handler = makePublishSessions({ publisher: () => publisher, now: () => new Date(0), runId: () => 'r1' });
    const publish = (basketId: string): Promise<HttpResponseInit> =>
      handler(
        new HttpRequest({
          method: 'POST',
          url: 'http://localhost/api/sessions',
          body: {
            string: JSON.stringify({
              baskets: [{ basketId, currency: 'EUR', items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 1 }] }],
            }),
          },
        }),
        new InvocationContext({ functionName: 'publishSessions', logHandler: () => undefined }),
      );
    for (const id of jsonLookingIds) assert.equal((await publish(id)).status, 202, id);
    const refused = await publish('-0');
    assert.equal(refused.status, 400);
    assert.match(JSON.stringify(refused.jsonBody), /baskets\.0\.basketId.*basketId must be 1-100 characters/);
  });
});

/** The consumer over in-memory ports: what each case inspects afterwards. */
function handlerOnFakes() {
  const orders = new InMemoryOrderStore();
  const quarantine = new InMemoryQuarantineStore();
  const handler = makeProcessOrderEvent({
    orderStore: () => orders,
    quarantineStore: () => quarantine,
    fulfillmentStarterFor: () => new RecordingFulfillmentStarter(),
    now: new ManualClock().now,
    maxParkedEvents: () => 10,
  });
  return { orders, quarantine, handler };
}
