import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as rhea from 'rhea';
import {
  copyParsed,
  encodeMessage,
  parseMessage,
  parseMessageFast,
  parseMessageWithRhea,
  splitBatch,
  splitBatchWithRhea,
  withApplicationProperties,
  withMessageId,
  type ParsedMessage,
} from '../src/codec';
import { scanBatchEnvelope } from '../src/fastCodec';
import { amqp, RandomMessages, seededRandom } from './amqpBytes';

type Outcome<T> = { ok: true; value: T } | { ok: false };

function attempt<T>(f: () => T): Outcome<T> {
  try {
    return { ok: true, value: f() };
  } catch {
    return { ok: false };
  }
}

/** The fast path may decline, but what it returns must be exactly what rhea's path returns. */
function assertAgrees(raw: Buffer, label: string): ParsedMessage | undefined {
  const fast = parseMessageFast(raw);
  if (fast === undefined) return undefined;
  const slow = attempt(() => parseMessageWithRhea(raw));
  assert.ok(slow.ok, `${label}: the fast path accepted bytes rhea cannot read: ${raw.toString('hex')}`);
  // Field by field: the fast result decodes some fields lazily, behind getters.
  assert.deepStrictEqual(copyParsed(fast), slow.value, `${label}: ${raw.toString('hex')}`);
  return fast;
}

/** A message shaped the way @azure/service-bus encodes one (it hands this object to rhea's encoder). */
function sdkShapedMessage(i: number): Buffer {
  return encodeMessage({
    ttl: 60_000,
    message_annotations: {
      'x-opt-scheduled-enqueue-time': new Date(Date.UTC(2030, 0, 1)),
      'x-opt-partition-key': 'session-3',
    },
    message_id: `m-${i}`,
    group_id: 'session-3',
    subject: 'ItemAdded',
    correlation_id: rhea.string_to_uuid('0f8fad5b-d9cb-469f-a165-70867728950e'),
    content_type: 'application/json',
    application_properties: { eventType: 'ItemAdded', seq: i, big: 2 ** 40, ok: true },
    body: rhea.message.data_section(Buffer.from(JSON.stringify({ i }))),
  });
}

describe('fast message decoder', () => {
  it('reads an SDK-shaped message itself, with the same result as rhea', () => {
    const raw = sdkShapedMessage(7);
    const fast = assertAgrees(raw, 'sdk message');
    assert.ok(fast !== undefined, 'the fast path must recognise the SDK shape');
    assert.equal(fast.messageId, 'm-7');
    assert.equal(fast.sessionId, 'session-3');
    assert.equal(fast.correlationId, '0f8fad5b-d9cb-469f-a165-70867728950e');
    assert.equal(fast.header.ttlMs, 60_000);
    assert.deepEqual(fast.annotations['x-opt-scheduled-enqueue-time'], new Date(Date.UTC(2030, 0, 1)));
    assert.deepEqual(fast.applicationProperties, { eventType: 'ItemAdded', seq: 7, big: 2 ** 40, ok: true });
    assert.equal(fast.size, raw.length);
    assert.deepStrictEqual(copyParsed(parseMessage(raw)), copyParsed(fast));
  });

  it('keeps its lazily decoded fields through withMessageId and dead-letter re-encoding', () => {
    const raw = encodeMessage({
      group_id: 's-1',
      subject: 'ItemAdded',
      reply_to: 'replies',
      application_properties: { eventType: 'ItemAdded', n: 3 },
      body: rhea.message.data_section(Buffer.from('{}')),
    });
    const fast = parseMessageFast(raw);
    assert.ok(fast !== undefined);
    const slow = parseMessageWithRhea(raw);
    assert.equal(fast.messageId, undefined);
    const renamed = withMessageId(fast, 'given-id');
    assert.deepStrictEqual(copyParsed(renamed), copyParsed(withMessageId(slow, 'given-id')));
    assert.equal(renamed.subject, 'ItemAdded');
    assert.equal(renamed.replyTo, 'replies');
    assert.deepEqual(renamed.applicationProperties, { eventType: 'ItemAdded', n: 3 });
    const extra = { DeadLetterReason: 'why' };
    assert.deepStrictEqual(withApplicationProperties(fast, extra), withApplicationProperties(slow, extra));
  });

  it('agrees with rhea on random messages made of the encodings it reads (8-bit and 32-bit forms)', () => {
    const random = new RandomMessages(seededRandom(0x5eed));
    for (let i = 0; i < 3000; i++) {
      const raw = random.message(0);
      assert.ok(assertAgrees(raw, `case ${i}`) !== undefined, `case ${i} should be fast: ${raw.toString('hex')}`);
    }
  });

  it('hands random messages with exotic annotation or property values to rhea, or agrees with it', () => {
    const random = new RandomMessages(seededRandom(42));
    let declined = 0;
    let read = 0;
    for (let i = 0; i < 2000; i++) {
      const raw = random.message(0.3);
      if (assertAgrees(raw, `case ${i}`) === undefined) {
        declined++;
        assert.deepStrictEqual(copyParsed(parseMessage(raw)), parseMessageWithRhea(raw));
      } else read++;
    }
    assert.ok(declined > 100 && read > 100, `declined ${declined}, read ${read}`);
  });

  it('declines the encodings it does not read, and parseMessage still answers as rhea does', () => {
    const body = amqp.section(0x75, amqp.binary(Buffer.from('hello')));
    const props = amqp.section(0x73, amqp.list([amqp.string('id-1')]));
    const cases: Record<string, Buffer> = {
      'durable as a one-byte boolean': Buffer.concat([amqp.section(0x70, amqp.list([amqp.boolByte(true)])), body]),
      'priority as a uint': Buffer.concat([amqp.section(0x70, amqp.list([amqp.bool(true), amqp.uint(4)])), body]),
      'annotation holding a list': Buffer.concat([
        amqp.section(0x72, amqp.map([[amqp.symbol('x-opt-a'), amqp.list([amqp.uint(1)])]])),
        body,
      ]),
      'message id beyond 2^53': Buffer.concat([amqp.section(0x73, amqp.list([amqp.ulong(2n ** 62n)])), body]),
      'symbolic section descriptor': Buffer.concat([
        amqp.symbolicSection('amqp:properties:list', amqp.list([amqp.string('id')])),
        body,
      ]),
      'properties before header': Buffer.concat([props, amqp.section(0x70, amqp.list([amqp.bool(true)])), body]),
      'list size disagreeing with its items': Buffer.concat([
        amqp.section(0x73, Buffer.from([0xc0, 0x07, 0x01, 0xa1, 0x02, 0x69, 0x64])),
        body,
      ]),
      'empty annotations map whose size claims more bytes': Buffer.concat([
        amqp.section(0x72, Buffer.from([0xc1, 0x05, 0x00, 0x40, 0x40, 0x40, 0x40])),
        body,
      ]),
      'map key that is a number': Buffer.concat([
        amqp.section(0x74, amqp.map([[amqp.uint(1), amqp.string('v')]])),
        body,
      ]),
      'section before the header': Buffer.concat([amqp.section(0x40, amqp.null()), props, body]),
      'delivery annotations after properties': Buffer.concat([props, amqp.section(0x71, amqp.map([])), body]),
    };
    for (const [name, raw] of Object.entries(cases)) {
      assert.equal(parseMessageFast(raw), undefined, name);
      const slow = attempt(() => parseMessageWithRhea(raw));
      if (slow.ok) assert.deepStrictEqual(copyParsed(parseMessage(raw)), slow.value, name);
      else assert.throws(() => parseMessage(raw), name);
    }
  });

  it('never accepts damaged bytes that rhea rejects or reads differently', () => {
    const random = new RandomMessages(seededRandom(7));
    let declined = 0;
    for (let i = 0; i < 5000; i++) {
      const raw = Buffer.from(random.message(0.1));
      if (random.chance(0.3)) {
        if (assertAgrees(raw.subarray(0, random.int(raw.length)), `truncated ${i}`) === undefined) declined++;
        continue;
      }
      for (let n = 1 + random.int(3); n > 0; n--) raw[random.int(raw.length)] = random.int(256);
      if (assertAgrees(raw, `mutated ${i}`) === undefined) declined++;
    }
    assert.ok(declined > 500, `declined only ${declined} damaged messages`);
  });
});

describe('batch envelope scanner', () => {
  it('finds the same messages as rhea in random envelopes (vbin8 and vbin32 sections)', () => {
    const random = new RandomMessages(seededRandom(99));
    for (let i = 0; i < 300; i++) {
      const messages = Array.from({ length: 1 + random.int(30) }, () => random.message(0.1));
      const envelope = random.envelope(messages);
      const fast = scanBatchEnvelope(envelope);
      assert.ok(fast !== undefined, `envelope ${i} should be fast`);
      assert.deepStrictEqual(fast, messages);
      assert.deepStrictEqual(fast, splitBatchWithRhea(envelope));
    }
  });

  it('declines envelopes it does not recognise, and splitBatch still answers as rhea does', () => {
    const message = amqp.section(0x75, amqp.binary(Buffer.from('m')));
    const cases: Record<string, Buffer> = {
      'symbolic data descriptor': amqp.symbolicSection('amqp:data:binary', amqp.binary(message)),
      'data section holding a string': amqp.section(0x75, amqp.string('not bytes')),
      'data section longer than the envelope': Buffer.from([0x00, 0x53, 0x75, 0xa0, 0x09, 0x01]),
      'annotations with an array': Buffer.concat([
        amqp.section(0x72, amqp.map([[amqp.symbol('a'), amqp.ubyteArray([1])]])),
        amqp.section(0x75, amqp.binary(message)),
      ]),
      'trailing byte': Buffer.concat([amqp.section(0x75, amqp.binary(message)), Buffer.from([0x00])]),
    };
    for (const [name, envelope] of Object.entries(cases)) {
      assert.equal(scanBatchEnvelope(envelope), undefined, name);
      const slow = attempt(() => splitBatchWithRhea(envelope));
      if (slow.ok) assert.deepStrictEqual(splitBatch(envelope), slow.value, name);
      else assert.throws(() => splitBatch(envelope), name);
    }
  });

  it('never accepts damaged envelopes that rhea rejects or splits differently', () => {
    const random = new RandomMessages(seededRandom(3));
    let declined = 0;
    for (let i = 0; i < 2000; i++) {
      let envelope = Buffer.from(random.envelope(Array.from({ length: 1 + random.int(5) }, () => random.message(0))));
      if (random.chance(0.3)) envelope = envelope.subarray(0, random.int(envelope.length));
      for (let n = 1 + random.int(2); n > 0; n--) envelope[random.int(envelope.length)] = random.int(256);
      const fast = scanBatchEnvelope(envelope);
      if (fast === undefined) {
        declined++;
        continue;
      }
      const slow = attempt(() => splitBatchWithRhea(envelope));
      assert.ok(slow.ok, `accepted an envelope rhea cannot read: ${envelope.toString('hex')}`);
      assert.deepStrictEqual(fast, slow.value);
    }
    assert.ok(declined > 100, `declined only ${declined} damaged envelopes`);
  });
});
