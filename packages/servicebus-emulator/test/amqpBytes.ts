/**
 * A tiny AMQP 1.0 byte builder for codec tests: it picks each encoding explicitly (list8 vs list32,
 * smalluint vs uint...), which rhea's writer does not let a test choose, and a seeded generator of
 * random messages built from it.
 */

export type Bytes = Buffer;

const b = (...parts: (number | Buffer)[]): Bytes =>
  Buffer.concat(parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : p)));

function u32(n: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n >>> 0);
  return out;
}

function i64(n: bigint, signed: boolean): Buffer {
  const out = Buffer.alloc(8);
  if (signed) out.writeBigInt64BE(n);
  else out.writeBigUInt64BE(n);
  return out;
}

export const amqp = {
  null: (): Bytes => b(0x40),
  bool: (v: boolean): Bytes => b(v ? 0x41 : 0x42),
  /** The one-byte boolean form (0x56), which rhea decodes as a number. */
  boolByte: (v: boolean): Bytes => b(0x56, v ? 1 : 0),
  ubyte: (v: number): Bytes => b(0x50, v & 0xff),
  ushort: (v: number): Bytes => b(0x60, (v >> 8) & 0xff, v & 0xff),
  uint: (v: number): Bytes => b(0x70, u32(v)),
  smallUint: (v: number): Bytes => b(0x52, v & 0xff),
  uint0: (): Bytes => b(0x43),
  ulong: (v: bigint): Bytes => b(0x80, i64(v, false)),
  smallUlong: (v: number): Bytes => b(0x53, v & 0xff),
  ulong0: (): Bytes => b(0x44),
  byte: (v: number): Bytes => b(0x51, v & 0xff),
  short: (v: number): Bytes => b(0x61, (v >> 8) & 0xff, v & 0xff),
  int: (v: number): Bytes => b(0x71, u32(v)),
  smallInt: (v: number): Bytes => b(0x54, v & 0xff),
  long: (v: bigint): Bytes => b(0x81, i64(v, true)),
  smallLong: (v: number): Bytes => b(0x55, v & 0xff),
  float: (v: number): Bytes => {
    const out = Buffer.alloc(5);
    out[0] = 0x72;
    out.writeFloatBE(v, 1);
    return out;
  },
  double: (v: number): Bytes => {
    const out = Buffer.alloc(9);
    out[0] = 0x82;
    out.writeDoubleBE(v, 1);
    return out;
  },
  char: (v: number): Bytes => b(0x73, u32(v)),
  timestamp: (ms: bigint): Bytes => b(0x83, i64(ms, true)),
  decimal32: (): Bytes => b(0x74, 0, 0, 0, 1),
  uuid: (bytes: Buffer): Bytes => b(0x98, bytes),
  binary: (v: Buffer, wide = false): Bytes =>
    wide || v.length > 255 ? b(0xb0, u32(v.length), v) : b(0xa0, v.length, v),
  string: (v: string, wide = false): Bytes => {
    const raw = Buffer.from(v, 'utf8');
    return wide || raw.length > 255 ? b(0xb1, u32(raw.length), raw) : b(0xa1, raw.length, raw);
  },
  symbol: (v: string, wide = false): Bytes => {
    const raw = Buffer.from(v, 'ascii');
    return wide ? b(0xb3, u32(raw.length), raw) : b(0xa3, raw.length, raw);
  },
  list: (items: Bytes[], wide = false): Bytes => {
    if (items.length === 0 && !wide) return b(0x45);
    const body = Buffer.concat(items);
    return wide ? b(0xd0, u32(body.length + 4), u32(items.length), body) : b(0xc0, body.length + 1, items.length, body);
  },
  map: (entries: [Bytes, Bytes][], wide = false): Bytes => {
    const body = Buffer.concat(entries.flat());
    const count = entries.length * 2;
    return wide ? b(0xd1, u32(body.length + 4), u32(count), body) : b(0xc1, body.length + 1, count, body);
  },
  /** An array8 of ubytes. */
  ubyteArray: (values: number[]): Bytes => b(0xe0, values.length + 2, values.length, 0x50, Buffer.from(values)),
  described: (descriptor: Bytes, value: Bytes): Bytes => b(0x00, descriptor, value),
  section: (code: number, value: Bytes): Bytes => b(0x00, 0x53, code, value),
  /** A section whose descriptor is the long symbolic form, e.g. `amqp:data:binary`. */
  symbolicSection: (name: string, value: Bytes): Bytes => b(0x00, amqp.symbol(name), value),
};

/** mulberry32: a small seeded PRNG, so a failing random case can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class RandomMessages {
  constructor(private readonly random: () => number) {}

  int(max: number): number {
    return Math.floor(this.random() * max);
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  text(): string {
    const alphabet = ['a', 'B', '7', '-', ' ', 'é', '→', '\u{1F600}', '_', 'x'];
    return Array.from({ length: this.int(12) }, () => this.pick(alphabet)).join('');
  }

  ascii(): string {
    return Array.from({ length: this.int(12) + 1 }, () => String.fromCharCode(0x21 + this.int(90))).join('');
  }

  bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, () => this.int(256)));
  }

  /** Any scalar encoding the fast path reads. */
  scalar(): Bytes {
    const ms = BigInt(Date.UTC(2020, 0, 1) + this.int(1e10));
    const all: (() => Bytes)[] = [
      () => amqp.null(),
      () => amqp.bool(this.chance(0.5)),
      () => amqp.ubyte(this.int(256)),
      () => amqp.ushort(this.int(65536)),
      () => amqp.uint(this.int(2 ** 32)),
      () => amqp.smallUint(this.int(256)),
      () => amqp.uint0(),
      () => amqp.ulong(BigInt(this.int(2 ** 40))),
      () => amqp.smallUlong(this.int(256)),
      () => amqp.ulong0(),
      () => amqp.byte(this.int(256)),
      () => amqp.short(this.int(65536)),
      () => amqp.int(this.int(2 ** 32)),
      () => amqp.smallInt(this.int(256)),
      () => amqp.long(BigInt(this.int(2 ** 40)) - 2n ** 39n),
      () => amqp.smallLong(this.int(256)),
      () => amqp.float(this.random() * 1000),
      () => amqp.double(this.random() * 1e9),
      () => amqp.char(this.int(0x10ffff)),
      () => amqp.timestamp(ms),
      () => amqp.uuid(this.bytes(16)),
      () => amqp.binary(this.bytes(this.int(20)), this.chance(0.3)),
      () => amqp.string(this.text(), this.chance(0.3)),
      () => amqp.symbol(this.ascii(), this.chance(0.3)),
    ];
    return this.pick(all)();
  }

  /** Encodings the fast path must hand to rhea (rhea decodes them to values it does not build). */
  exotic(): Bytes {
    const all: (() => Bytes)[] = [
      () => amqp.boolByte(this.chance(0.5)),
      () => amqp.ulong(2n ** 60n + BigInt(this.int(1000))),
      () => amqp.long(-(2n ** 60n)),
      () => amqp.decimal32(),
      () => amqp.list([amqp.string('a'), amqp.uint(1)]),
      () => amqp.list([]),
      () => amqp.map([[amqp.string('k'), amqp.int(1)]]),
      () => amqp.ubyteArray([1, 2, 3]),
      () => amqp.described(amqp.smallUlong(0x77), amqp.string('described')),
    ];
    return this.pick(all)();
  }

  value(exoticRate: number): Bytes {
    return this.chance(exoticRate) ? this.exotic() : this.scalar();
  }

  key(): Bytes {
    return this.chance(0.7) ? amqp.symbol(this.ascii(), this.chance(0.2)) : amqp.string(this.text(), this.chance(0.2));
  }

  map(exoticRate: number): Bytes {
    const entries = Array.from({ length: this.int(5) }, (): [Bytes, Bytes] => [this.key(), this.value(exoticRate)]);
    return amqp.map(entries, this.chance(0.5));
  }

  header(): Bytes {
    const fields: Bytes[] = [
      this.pick([amqp.bool(true), amqp.bool(false), amqp.null()]),
      this.pick([amqp.ubyte(this.int(10)), amqp.null()]),
      this.pick([amqp.uint(this.int(100_000)), amqp.smallUint(this.int(256)), amqp.uint0(), amqp.null()]),
      this.pick([amqp.bool(false), amqp.null()]),
      this.pick([amqp.uint(this.int(5)), amqp.uint0(), amqp.null()]),
    ];
    return amqp.list(fields.slice(0, this.int(6)), this.chance(0.5));
  }

  messageId(): Bytes {
    return this.pick([
      () => amqp.string(this.text() || 'id'),
      () => amqp.ulong(BigInt(this.int(1e9))),
      () => amqp.smallUlong(this.int(256)),
      () => amqp.uuid(this.bytes(16)),
      () => amqp.binary(this.bytes(this.pick([8, 16]))),
      () => amqp.null(),
    ])();
  }

  properties(): Bytes {
    const fields: Bytes[] = [
      this.messageId(),
      this.pick([amqp.binary(this.bytes(4)), amqp.null()]),
      this.pick([amqp.string(this.text()), amqp.null()]),
      this.pick([amqp.string(this.text()), amqp.null()]),
      this.pick([amqp.string(this.text()), amqp.null()]),
      this.messageId(),
      this.pick([amqp.symbol(this.ascii()), amqp.null()]),
      this.pick([amqp.symbol(this.ascii()), amqp.null()]),
      this.pick([amqp.timestamp(BigInt(this.int(1e12))), amqp.null()]),
      this.pick([amqp.timestamp(BigInt(this.int(1e12))), amqp.null()]),
      this.pick([amqp.string(this.text(), this.chance(0.2)), amqp.null()]),
      this.pick([amqp.uint(this.int(1000)), amqp.null()]),
      this.pick([amqp.string(this.text()), amqp.null()]),
    ];
    return amqp.list(fields.slice(0, this.int(14)), this.chance(0.5));
  }

  body(): Bytes {
    const sections = [
      () => amqp.section(0x75, amqp.binary(this.bytes(this.int(300)), this.chance(0.3))),
      () => amqp.section(0x77, this.scalar()),
      () => amqp.section(0x76, amqp.list([this.scalar(), this.scalar()])),
    ];
    const body = Array.from({ length: this.int(3) }, () => this.pick(sections)());
    if (this.chance(0.2)) body.push(amqp.section(0x78, this.map(0)));
    return Buffer.concat(body);
  }

  /** A message in the spec's section order; `exoticRate` of its annotation values are exotic. */
  message(exoticRate = 0): Bytes {
    const parts: Bytes[] = [];
    if (this.chance(0.6)) parts.push(amqp.section(0x70, this.header()));
    if (this.chance(0.1)) parts.push(amqp.section(0x71, this.map(0)));
    if (this.chance(0.6)) parts.push(amqp.section(0x72, this.map(exoticRate)));
    if (this.chance(0.9)) parts.push(amqp.section(0x73, this.properties()));
    if (this.chance(0.7)) parts.push(amqp.section(0x74, this.map(exoticRate)));
    parts.push(this.body());
    return Buffer.concat(parts);
  }

  /** A batch envelope: the first message's annotations and properties, then one data section each. */
  envelope(messages: Bytes[]): Bytes {
    const parts: Bytes[] = [];
    if (this.chance(0.5)) parts.push(amqp.section(0x72, this.map(0)));
    if (this.chance(0.5)) parts.push(amqp.section(0x73, this.properties()));
    if (this.chance(0.3)) parts.push(amqp.section(0x74, this.map(0)));
    for (const m of messages) parts.push(amqp.section(0x75, amqp.binary(m, this.chance(0.2))));
    return Buffer.concat(parts);
  }
}

/** One AMQP frame as a peer writes it: size, data offset 2, type 0 (AMQP), channel, performative. */
export function amqpFrame(channel: number, performative: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + performative.length, 0);
  header[4] = 2;
  header.writeUInt16BE(channel, 6);
  return Buffer.concat([header, performative]);
}

/** detach(handle 0, closed) and disposition(receiver, delivery 0, settled, released): what a client settles late. */
export const lateDetach = amqp.described(amqp.smallUlong(0x16), amqp.list([amqp.uint0(), amqp.bool(true)]));
export const lateDisposition = amqp.described(
  amqp.smallUlong(0x15),
  amqp.list([
    amqp.bool(true),
    amqp.uint0(),
    amqp.null(),
    amqp.bool(true),
    amqp.described(amqp.smallUlong(0x26), amqp.list([])),
  ]),
);

/** open(container-id "again"): a second open on a connection already open, which AMQP forbids. */
export const secondOpen = amqp.described(amqp.smallUlong(0x10), amqp.list([amqp.string('again')]));
