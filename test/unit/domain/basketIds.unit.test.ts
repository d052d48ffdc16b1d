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
// "1e309" overflows to Infinity, "1e-400" underflows to 0, "9007199254740993" (2^53 + 1) rounds to 2^53.
const jsonLookingIds = [
  '1e3',
  '1.50',
  '2.0',
  '0.0',
  'true',
  'false',
  'null',
  '12345678901234567890',
  '1001',
  '007',
  '1e309',
  '1E309',
  '1e-400',
  '9007199254740993',
];

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
    assert.equal(basketMatchesSession('1e309', '-Infinity', -Infinity), false, '1e309 is not -1e309');
    assert.equal(basketMatchesSession('1e309', '1e+308', 1e308), false, 'the largest finite double is not Infinity');
    assert.equal(basketMatchesSession('1e-400', '-0', -0), false, '1e-400 parses to 0, not -0');
  });

  it('match what the parse merges, and only that: the rule cannot see digits the parse dropped', () => {
    assert.equal(basketMatchesSession('2e309', 'Infinity', JSON.parse('1e309') as number), true);
    assert.equal(basketMatchesSession('0', '0', JSON.parse('1e-400') as number), true);
    assert.equal(
      basketMatchesSession('9007199254740992', '9007199254740992', JSON.parse('9007199254740993') as number),
      true,
    );
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
    const { orders, quarantine, reason } = await firstItemInSession('2.0', '2.5');
    assert.match(reason, /basketId "2\.0" differs from the session id "2\.5"/);
    assert.equal(quarantine.size, 1);
    assert.equal(orders.writes.length, 0);
  });

  it('a session id the library parsed into an array is named in the quarantine reason, not taken for a missing one', async () => {
    const { reason } = await firstItemInSession('1', '[1]');
    assert.match(reason, /basketId "1" differs from the session id "\[1\]"/);
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

/** Delivers basket `basketId`'s first ItemAdded in session `sessionIdText`, as the library hands it over. */
async function firstItemInSession(basketId: string, sessionIdText: string) {
  const fakes = handlerOnFakes();
  const body = {
    basketId,
    sequence: 1,
    eventId: eventIdFor(basketId, 1),
    type: 'ItemAdded',
    occurredAt: '2026-01-01T10:00:00.000Z',
    data: { sku: 'SKU-1', quantity: 1, unitPrice: 2 },
  };
  await fakes.handler(
    body,
    new InvocationContext({
      functionName: processOrderEventName,
      triggerMetadata: {
        sessionId: asTheLibraryHandsItOver(sessionIdText),
        messageId: body.eventId,
        sequenceNumber: 1,
      },
      logHandler: () => undefined,
    }),
  );
  const [quarantined] = await fakes.quarantine.list(1);
  return { ...fakes, reason: quarantined?.reason ?? '' };
}

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
