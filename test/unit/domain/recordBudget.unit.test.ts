import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asciiJson, maxJsonChars } from '../../../src/adapters/jsonColumns';
import { newOrderRecord, receive, rejectInvalid, type ConvoyLimits } from '../../../src/domain/convoy';
import { eventEnvelopeSchema, eventIdFor, type EventEnvelope } from '../../../src/domain/events';
import {
  appliedEntrySchema,
  orderLineSchema,
  type Delivery,
  type DuplicateEntry,
  type OrderRecord,
  type RejectedEntry,
} from '../../../src/domain/orderRecord';
import { clip, maxEventsPerBasket, maxRecordChars, storedChars, trimLogsToFit } from '../../../src/domain/recordBudget';

/**
 * The order record must always fit one Table entity (1 MiB). These tests compute the worst case
 * the budget comment in src/domain/recordBudget.ts quotes, and drive hostile inputs through the
 * convoy to show the record never passes its budget.
 */

const oneMiB = 1024 * 1024;
/** Bytes Table Storage spends on a string of ASCII characters (UTF-16). */
const bytes = (chars: number) => 2 * chars;

const longBasket = `B${'b'.repeat(99)}`; // basketId at its schema maximum (100)
const longSku = `S${'s'.repeat(63)}`; // sku at its schema maximum (64)
const longOccurredAt = '2026-01-01T12:00:00.12345678901234+01:00'; // 40 characters, the maximum
const maxLong = '18446744073709551615'; // the widest 64-bit number as a decimal string
const isoNow = '2026-01-01T12:00:00.000Z'; // what the handler's clock gives (toISOString)

function event(basketId: string, sequence: number, body: { type: string; data: unknown }): EventEnvelope {
  return eventEnvelopeSchema.parse({
    basketId,
    sequence,
    eventId: eventIdFor(basketId, sequence),
    occurredAt: longOccurredAt,
    ...body,
  });
}

const widestItem = (basketId: string, sequence: number) =>
  event(basketId, sequence, { type: 'ItemAdded', data: { sku: longSku, quantity: 1000, unitPrice: 999_999.99 } });

const deliveryOf = (message: { eventId: string }): Delivery => ({
  messageId: message.eventId,
  deliveryCount: 2_147_483_647,
  serviceSequenceNumber: maxLong,
  receivedAt: isoNow,
});

const limits: ConvoyLimits = { maxParkedEvents: 100 };

describe('record budget: the worst case, computed', () => {
  it('storedChars counts exactly what the Table adapter writes (non-ASCII escaped as \\uXXXX)', () => {
    for (const value of [
      { plain: 'ascii' },
      { accent: 'é', cjk: '注文', emoji: '📦', control: '\u0001\n', lone: '\ud800' },
      ['€'.repeat(1000)],
    ]) {
      assert.equal(storedChars(value), asciiJson(value).length);
    }
  });

  it('one applied entry is at most 329 characters and one order line at most 113', () => {
    const widestApplied = appliedEntrySchema.parse({
      sequence: maxEventsPerBasket,
      type: 'InventoryUpdated',
      eventId: eventIdFor(longBasket, maxEventsPerBasket),
      occurredAt: longOccurredAt,
      appliedAt: isoNow,
      deliveryCount: 2_147_483_647,
      serviceSequenceNumber: maxLong,
    });
    const widestLine = orderLineSchema.parse({ sku: longSku, quantity: 1000, unitPrice: 999_999.99 });
    // +1 for the comma between array entries.
    assert.equal(storedChars(widestApplied) + 1, 329);
    assert.equal(storedChars(widestLine) + 1, 113);
    // The money schema normalizes amounts to cents, so no number is wider than 999999.99.
    assert.equal(orderLineSchema.parse({ sku: 'S', quantity: 1, unitPrice: 1.0000000001 }).unitPrice, 1);
  });

  it(`a basket of ${String(maxEventsPerBasket)} widest events fits, far below the 1 MiB entity`, () => {
    let record: OrderRecord | undefined;
    for (let sequence = 1; sequence <= maxEventsPerBasket; sequence++) {
      const item = widestItem(longBasket, sequence);
      const result = receive(record, item, deliveryOf(item), isoNow, limits);
      assert.equal(result.outcome.kind, 'applied');
      record = result.record;
    }
    assert.ok(record !== undefined);
    assert.equal(record.lastAppliedSequence, maxEventsPerBasket);
    const chars = storedChars(record);
    const bound = maxEventsPerBasket * (329 + 113) + 1000; // + the record's own fields
    assert.ok(chars <= bound, `${String(chars)} > ${String(bound)}`);
    assert.ok(bound <= maxRecordChars);
    assert.ok(bytes(maxRecordChars) < 0.5 * oneMiB, 'the budget is under half the entity limit');
    assert.equal(Math.min(maxRecordChars, maxJsonChars), maxRecordChars, 'the budget is inside what the store accepts');
  });

  it(`sequence ${String(maxEventsPerBasket + 1)} is a rule violation that blocks the order with the reason`, () => {
    const first = widestItem('b-1', 1);
    const one = receive(undefined, first, deliveryOf(first), isoNow, limits).record;
    const beyond = widestItem('b-1', maxEventsPerBasket + 1);
    const result = receive(one, beyond, deliveryOf(beyond), isoNow, limits);
    assert.equal(result.outcome.kind, 'blocked');
    assert.equal(result.record.status, 'Blocked');
    assert.equal(
      result.record.blockedReason,
      `ItemAdded at sequence ${String(maxEventsPerBasket + 1)} is beyond the ${String(maxEventsPerBasket)} events a basket may have.`,
    );
    assert.equal(result.record.lastAppliedSequence, 1);
  });
});

describe('record budget: hostile input never outgrows the record', () => {
  it('parked events that would outgrow the budget block the order instead, and the blocked record fits', () => {
    // InventoryUpdated with 500 widest shortages is ~59,000 characters; five of them do not fit.
    const shortages = Array.from({ length: 500 }, () => ({ sku: longSku, requested: 1_000_000, available: 1_000_000 }));
    let record: OrderRecord | undefined;
    let blockedAt: number | undefined;
    for (let sequence = 2; sequence <= 10 && blockedAt === undefined; sequence++) {
      const huge = event('b-1', sequence, { type: 'InventoryUpdated', data: { outcome: 'insufficient', shortages } });
      const result = receive(record, huge, deliveryOf(huge), isoNow, limits);
      record = result.record;
      assert.ok(storedChars(record) <= maxRecordChars);
      if (result.outcome.kind === 'blocked') blockedAt = sequence;
      else assert.equal(result.outcome.kind, 'parked');
    }
    assert.equal(blockedAt, 6);
    assert.equal(record?.status, 'Blocked');
    assert.match(
      record.blockedReason ?? '',
      /^InventoryUpdated at sequence 6 would grow the order record to \d+ characters; one order may hold at most 250000/,
    );
    assert.deepEqual(record.parked, []);
    assert.deepEqual(
      record.rejected.map((entry) => entry.sequence),
      [6, 2, 3, 4, 5],
    );
  });

  it('a flood of invalid messages with long non-ASCII claims keeps the newest log entries within the budget', () => {
    const first = widestItem(longBasket, 1);
    let record = receive(undefined, first, deliveryOf(first), isoNow, limits).record;
    const claim = '注'.repeat(10_000);
    const reason = `The event does not match its schema: ${'é'.repeat(10_000)}`;
    for (let sequence = 2; sequence <= 400; sequence++) {
      const delivery = { ...deliveryOf({ eventId: claim }), serviceSequenceNumber: String(sequence) };
      const invalid = { basketId: longBasket, sequence, type: claim, eventId: claim };
      record = rejectInvalid(record, invalid, reason, delivery, isoNow, { ...limits, maxRejected: 10_000 }).record;
      // Every fifth one is a redelivery: the duplicate log grows too.
      if (sequence % 5 === 0) record = rejectInvalid(record, invalid, reason, delivery, isoNow, limits).record;
      assert.ok(storedChars(record) <= maxRecordChars, `sequence ${String(sequence)}`);
    }
    assert.equal(record.status, 'Blocked');
    assert.match(
      record.blockedReason ?? '',
      /^Sequence 2 is invalid: The event does not match its schema: é+…\[\d+ more\]$/,
    );
    assert.ok((record.blockedReason ?? '').length <= 500);
    // The newest entries survive the trimming: the log ends at the last sequence received.
    assert.equal(record.rejected.at(-1)?.serviceSequenceNumber, '400');
    assert.ok(record.rejected.length < 399, 'older rejections were dropped to make room');
    assert.ok(
      record.rejected.every((entry) => (entry.type ?? '').length <= 128 && (entry.eventId ?? '').length <= 128),
    );
  });
});

describe('record budget: trimming the operator logs', () => {
  const base: OrderRecord = { ...newOrderRecord('b-1', isoNow), status: 'Blocked', blockedReason: 'x' };
  const rejected = (sequence: number): RejectedEntry => ({
    sequence,
    reason: 'r'.repeat(100),
    rejectedAt: isoNow,
    deliveryCount: 1,
    serviceSequenceNumber: String(sequence),
  });
  const duplicate = (sequence: number): DuplicateEntry => ({
    sequence,
    eventId: `b-1:${String(sequence)}`,
    seenAt: isoNow,
    deliveryCount: 2,
    serviceSequenceNumber: String(sequence),
  });
  const full: OrderRecord = {
    ...base,
    rejected: [1, 2, 3].map(rejected),
    duplicates: [4, 5, 6].map(duplicate),
  };

  it('leaves a record that fits alone', () => {
    assert.deepEqual(trimLogsToFit(full, storedChars(full)), { record: full, fits: true });
  });

  it('drops the oldest duplicates first, then the oldest rejections, and only as many as needed', () => {
    const withoutTwoDuplicates = { ...full, duplicates: [duplicate(6)] };
    assert.deepEqual(trimLogsToFit(full, storedChars(withoutTwoDuplicates)), {
      record: withoutTwoDuplicates,
      fits: true,
    });
    const oneRejection = { ...full, rejected: [rejected(3)], duplicates: [] };
    assert.deepEqual(trimLogsToFit(full, storedChars(oneRejection)), { record: oneRejection, fits: true });
  });

  it('says when even empty logs do not fit', () => {
    const trimmed = trimLogsToFit(full, storedChars(base) - 1);
    assert.deepEqual(trimmed, { record: base, fits: false });
  });

  it('clip keeps short text and says exactly how much it cut from long text', () => {
    assert.equal(clip('short', 10), 'short');
    const cut = clip('x'.repeat(1000), 100);
    assert.equal(cut, `${'x'.repeat(89)}…[911 more]`);
    assert.equal(cut.length, 100);
    // The marker grows by a digit as the cut does: still within max, still exact.
    assert.equal(clip('y'.repeat(105), 100), `${'y'.repeat(90)}…[15 more]`);
    assert.equal(clip('z'.repeat(50), 5), 'zzzzz', 'no room for a marker: a plain cut');
  });
});
