import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyMessage, type InboundMessage } from '../../../src/domain/inbound';

type Kind = InboundMessage['kind'];
const isKind = <K extends Kind>(inbound: InboundMessage, kind: K): inbound is Extract<InboundMessage, { kind: K }> =>
  inbound.kind === kind;

function expectKind<K extends Kind>(inbound: InboundMessage, kind: K): Extract<InboundMessage, { kind: K }> {
  if (!isKind(inbound, kind)) assert.fail(`expected ${kind}, got ${JSON.stringify(inbound)}`);
  return inbound;
}

const valid = {
  basketId: 'b-1',
  sequence: 2,
  eventId: 'b-1:2',
  type: 'ItemAdded',
  occurredAt: '2026-01-01T10:00:00Z',
  data: { sku: 'SKU-1', quantity: 1, unitPrice: 2.5 },
};

describe('classifying an incoming message', () => {
  it('given a valid event of the session basket, then it is an event', () => {
    assert.deepEqual(expectKind(classifyMessage(valid, 'b-1'), 'event').event, valid);
  });

  it('given a valid event of another basket than the session, then it is unattributable', () => {
    const inbound = classifyMessage(valid, 'b-2');
    assert.deepEqual(inbound, {
      kind: 'unattributable',
      reason: 'The body\'s basketId "b-1" differs from the session id "b-2".',
    });
  });

  it('given no session id, then it is unattributable whatever the body', () => {
    assert.equal(classifyMessage(valid, undefined).kind, 'unattributable');
    assert.equal(classifyMessage(valid, '').kind, 'unattributable');
  });

  it('given an invalid event with a usable basket id and sequence, then it is an invalid event at that sequence with every issue', () => {
    const body = { ...valid, eventId: 'b-1:9', data: { sku: '', quantity: 0, unitPrice: 1 } };
    const inbound = expectKind(classifyMessage(body, 'b-1'), 'invalidEvent');
    assert.deepEqual(inbound.invalid, { basketId: 'b-1', sequence: 2, type: 'ItemAdded', eventId: 'b-1:9' });
    assert.match(inbound.reason, /data\.sku: sku must be 1-64/);
    assert.match(inbound.reason, /data\.quantity: /);
  });

  it('given a valid event whose message id is not its eventId, then it is an invalid event naming both ids', () => {
    const inbound = expectKind(classifyMessage(valid, 'b-1', '3f2a9c1e-guid'), 'invalidEvent');
    assert.deepEqual(inbound.invalid, { basketId: 'b-1', sequence: 2, type: 'ItemAdded', eventId: 'b-1:2' });
    assert.equal(
      inbound.reason,
      'The message id "3f2a9c1e-guid" differs from the eventId "b-1:2"; the producer must set messageId = eventId so Service Bus duplicate detection drops its retries.',
    );
  });

  it('given the message id equal to the eventId, or no message id reported, then it is an event', () => {
    assert.equal(classifyMessage(valid, 'b-1', 'b-1:2').kind, 'event');
    assert.equal(classifyMessage(valid, 'b-1', undefined).kind, 'event');
  });

  it('a session mismatch wins over a message id mismatch: the message goes to quarantine', () => {
    assert.equal(classifyMessage(valid, 'b-2', 'other').kind, 'unattributable');
  });

  it('given an occurredAt longer than 40 characters (endless fraction digits), then it is an invalid event', () => {
    const body = { ...valid, occurredAt: `2026-01-01T10:00:00.${'1'.repeat(30)}Z` };
    assert.match(expectKind(classifyMessage(body, 'b-1'), 'invalidEvent').reason, /occurredAt: /);
  });

  it('amounts are normalized to the cent: float noise is absorbed, a third decimal is refused', () => {
    const noisy = { ...valid, data: { sku: 'SKU-1', quantity: 1, unitPrice: 0.1 + 0.2 } };
    assert.deepEqual(expectKind(classifyMessage(noisy, 'b-1'), 'event').event.data, {
      sku: 'SKU-1',
      quantity: 1,
      unitPrice: 0.3,
    });
    const tooPrecise = { ...valid, data: { sku: 'SKU-1', quantity: 1, unitPrice: 0.015 } };
    assert.match(
      expectKind(classifyMessage(tooPrecise, 'b-1'), 'invalidEvent').reason,
      /data\.unitPrice: amount must have at most two decimals/,
    );
  });

  it('given an unknown event type at a usable sequence, then it is an invalid event', () => {
    assert.match(
      expectKind(classifyMessage({ ...valid, type: 'CouponApplied' }, 'b-1'), 'invalidEvent').reason,
      /type/,
    );
  });

  it('given an invalid event of another basket, then it is unattributable (mismatch)', () => {
    const inbound = expectKind(classifyMessage({ ...valid, basketId: 'b-2', data: {} }, 'b-1'), 'unattributable');
    assert.match(inbound.reason, /"b-2" differs from the session id "b-1"/);
  });

  for (const [name, body] of [
    ['text', 'hello'],
    ['a number', 42],
    ['null', null],
    ['an object without a sequence', { basketId: 'b-1', type: 'ItemAdded' }],
    ['a sequence of 0', { ...valid, sequence: 0 }],
    ['a malformed basket id', { ...valid, basketId: 'b 1' }],
  ] as const) {
    it(`given ${name}, then it is unattributable with the schema issues`, () => {
      const inbound = expectKind(classifyMessage(body, 'b-1'), 'unattributable');
      assert.match(inbound.reason, /does not match its schema: .*\(no usable basketId and sequence\)$/);
    });
  }

  it('caps the issues quoted in a reason', () => {
    const body = { type: 'ItemAdded', basketId: 1, sequence: 'x', eventId: 2, occurredAt: 3, data: 4, extra: 5 };
    const inbound = expectKind(classifyMessage(body, 'b-1'), 'unattributable');
    assert.match(inbound.reason, /; and [1-9]\d* more \(no usable/);
  });
});
