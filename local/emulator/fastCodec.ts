/**
 * A hand-written reader for the common shape of the messages the SDK sends: it walks the encoded
 * bytes without building rhea's intermediate values and decodes only what the broker needs.
 * Whenever it meets anything it does not fully understand it returns `undefined`, and the caller
 * falls back to rhea's generic decoder, so it can only be faster, never different.
 */

/** Decoded field values exactly as rhea's decoder yields them (strings, numbers, Dates, Buffers...). */
export type ScalarValue = string | number | boolean | null | Date | Buffer;

/** Returned by readers for "not recognised: use the rhea path". */
const unknownShape = -1;

/** Width of the fixed-width value after each type code rhea knows; -1 for every other code. */
const fixedWidths = new Int8Array(256).fill(-1);
for (const [codes, width] of [
  [[0x40, 0x41, 0x42, 0x43, 0x44, 0x45], 0], // null, true, false, uint0, ulong0, list0
  [[0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56], 1],
  [[0x60, 0x61], 2],
  [[0x70, 0x71, 0x72, 0x73, 0x74], 4],
  [[0x80, 0x81, 0x82, 0x83, 0x84], 8],
  [[0x94, 0x98], 16],
] as const) {
  for (const code of codes) fixedWidths[code] = width;
}

/**
 * End offset of the value (with its constructor) at `pos`, or -1 when it is not well formed or uses
 * a type rhea does not decode. Lists and maps are walked item by item: rhea reads `count` items and
 * ignores `size`, so both must agree before the shape counts as recognised. Arrays are left to rhea.
 */
export function skipValue(buf: Buffer, pos: number): number {
  if (pos >= buf.length) return unknownShape;
  let code = buf[pos] ?? 0;
  let at = pos + 1;
  if (code === 0x00) {
    at = skipValue(buf, at);
    if (at < 0 || at >= buf.length) return unknownShape;
    code = buf[at] ?? 0;
    at++;
    if (code === 0x00) return unknownShape;
  }
  const fixed = fixedWidths[code] ?? -1;
  if (fixed >= 0) return at + fixed <= buf.length ? at + fixed : unknownShape;
  switch (code) {
    case 0xa0:
    case 0xa1:
    case 0xa3:
      return variableEnd(buf, at, 1);
    case 0xb0:
    case 0xb1:
    case 0xb3:
      return variableEnd(buf, at, 4);
    case 0xc0:
    case 0xc1:
      return compoundEnd(buf, at, 1);
    case 0xd0:
    case 0xd1:
      return compoundEnd(buf, at, 4);
    default:
      return unknownShape;
  }
}

function variableEnd(buf: Buffer, at: number, width: 1 | 4): number {
  if (at + width > buf.length) return unknownShape;
  const end = at + width + (width === 1 ? (buf[at] ?? 0) : buf.readUInt32BE(at));
  return end <= buf.length ? end : unknownShape;
}

function compoundEnd(buf: Buffer, at: number, width: 1 | 4): number {
  const header = readCompoundHeader(buf, at, width);
  if (header === undefined) return unknownShape;
  let item = header.first;
  for (let i = 0; i < header.count; i++) {
    item = skipValue(buf, item);
    if (item < 0) return unknownShape;
  }
  return item === header.end ? item : unknownShape;
}

interface CompoundHeader {
  /** Offset of the first item. */
  first: number;
  count: number;
  /** Offset just past the compound, per its size field. */
  end: number;
}

function readCompoundHeader(buf: Buffer, at: number, width: 1 | 4): CompoundHeader | undefined {
  if (at + 2 * width > buf.length) return undefined;
  const size = width === 1 ? (buf[at] ?? 0) : buf.readUInt32BE(at);
  const count = width === 1 ? (buf[at + 1] ?? 0) : buf.readUInt32BE(at + 4);
  const end = at + width + size;
  if (size < width || end > buf.length) return undefined;
  return { first: at + 2 * width, count, end };
}

/** A list or map value at `pos` (list0 included): its items' offsets. */
function compoundAt(buf: Buffer, pos: number, list: boolean): CompoundHeader | undefined {
  const code = buf[pos];
  if (list && code === 0x45) return { first: pos + 1, count: 0, end: pos + 1 };
  if (code === (list ? 0xc0 : 0xc1)) return readCompoundHeader(buf, pos + 1, 1);
  if (code === (list ? 0xd0 : 0xd1)) return readCompoundHeader(buf, pos + 1, 4);
  return undefined;
}

/** Where the list or map at `pos` ends according to its size field; -1 for other values. */
function declaredEnd(buf: Buffer, pos: number): number {
  const compound = compoundAt(buf, pos, buf[pos] === 0x45 || buf[pos] === 0xc0 || buf[pos] === 0xd0);
  return compound === undefined ? unknownShape : compound.end;
}

/** rhea returns longs beyond ±2^53 (roughly) as raw bytes; those shapes go to rhea. */
function readSafeLong(buf: Buffer, at: number, signed: boolean): number | undefined {
  const hi = signed ? buf.readInt32BE(at) : buf.readUInt32BE(at);
  if (hi >= 2097153 || hi <= -2097153) return undefined;
  return hi * 4294967296 + buf.readUInt32BE(at + 4);
}

/**
 * Decodes the scalar at `pos` into `out.value` (the same value rhea's decoder + unwrap produce) and
 * returns its end, or -1 for anything else (described values, lists, maps, arrays, odd widths).
 */
function readScalar(buf: Buffer, pos: number, out: { value: ScalarValue }): number {
  const code = buf[pos] ?? 0;
  const at = pos + 1;
  if (at + (fixedWidths[code] ?? 0) > buf.length) return unknownShape;
  switch (code) {
    case 0x40:
      out.value = null;
      return at;
    case 0x41:
      out.value = true;
      return at;
    case 0x42:
      out.value = false;
      return at;
    case 0x43:
    case 0x44:
      out.value = 0;
      return at;
    case 0x50:
    case 0x52:
    case 0x53:
      out.value = buf.readUInt8(at);
      return at + 1;
    case 0x51:
    case 0x54:
    case 0x55:
      out.value = buf.readInt8(at);
      return at + 1;
    case 0x60:
      out.value = buf.readUInt16BE(at);
      return at + 2;
    case 0x61:
      out.value = buf.readInt16BE(at);
      return at + 2;
    case 0x70:
    case 0x73:
      out.value = buf.readUInt32BE(at);
      return at + 4;
    case 0x71:
      out.value = buf.readInt32BE(at);
      return at + 4;
    case 0x72:
      out.value = buf.readFloatBE(at);
      return at + 4;
    case 0x82:
      out.value = buf.readDoubleBE(at);
      return at + 8;
    case 0x80:
    case 0x81:
    case 0x83: {
      const long = readSafeLong(buf, at, code !== 0x80);
      if (long === undefined) return unknownShape;
      out.value = code === 0x83 ? new Date(long) : long;
      return at + 8;
    }
    case 0x98:
      out.value = buf.subarray(at, at + 16);
      return at + 16;
    case 0xa0:
    case 0xa1:
    case 0xa3:
    case 0xb0:
    case 0xb1:
    case 0xb3: {
      const width = code < 0xb0 ? 1 : 4;
      const end = variableEnd(buf, at, width);
      if (end < 0) return unknownShape;
      const start = at + width;
      if (code === 0xa0 || code === 0xb0) out.value = buf.subarray(start, end);
      else out.value = buf.toString(code === 0xa1 || code === 0xb1 ? 'utf8' : 'ascii', start, end);
      return end;
    }
    default:
      // 0x56 (rhea yields its byte, not a boolean), decimals, list0 (rhea shares one instance), compounds.
      return unknownShape;
  }
}

/** A map of string/symbol keys to scalars, as rhea's `unwrap_map_simple` builds it; undefined otherwise. */
function readScalarMap(buf: Buffer, pos: number, end: number): Record<string, unknown> | undefined {
  const map = compoundAt(buf, pos, false);
  if (map?.end !== end || map.count % 2 !== 0) return undefined;
  const result: Record<string, unknown> = {};
  const slot: { value: ScalarValue } = { value: null };
  let at = map.first;
  for (let i = 0; i < map.count; i += 2) {
    const keyCode = buf[at];
    if (keyCode !== 0xa1 && keyCode !== 0xb1 && keyCode !== 0xa3 && keyCode !== 0xb3) return undefined;
    at = readScalar(buf, at, slot);
    if (at < 0) return undefined;
    const key = slot.value;
    at = readScalar(buf, at, slot);
    if (at < 0) return undefined;
    result[String(key)] = slot.value;
  }
  return at === end ? result : undefined;
}

/** The header fields the broker uses (the list is durable, priority, ttl, first-acquirer, delivery-count). */
export interface FastHeader {
  durable: boolean;
  priority: number | undefined;
  ttlMs: number | undefined;
}

function readHeader(buf: Buffer, pos: number, end: number): FastHeader | undefined {
  const list = compoundAt(buf, pos, true);
  if (list?.end !== end) return undefined;
  const header: FastHeader = { durable: false, priority: undefined, ttlMs: undefined };
  let at = list.first;
  for (let i = 0; i < list.count; i++) {
    const next = skipValue(buf, at);
    if (next < 0) return undefined;
    // From here on the item's bytes are known to be inside the buffer.
    const code = buf[at];
    if (i === 0) {
      if (code !== 0x40 && code !== 0x41 && code !== 0x42) return undefined;
      header.durable = code === 0x41;
    } else if (i === 1) {
      if (code === 0x50) header.priority = buf.readUInt8(at + 1);
      else if (code !== 0x40) return undefined;
    } else if (i === 2) {
      let ttl = 0;
      if (code === 0x70) ttl = buf.readUInt32BE(at + 1);
      else if (code === 0x52) ttl = buf.readUInt8(at + 1);
      else if (code !== 0x40 && code !== 0x43) return undefined;
      header.ttlMs = ttl > 0 ? ttl : undefined;
    }
    at = next;
  }
  return at === end ? header : undefined;
}

/** The properties the broker reads (routing, filters, duplicate detection), by list position. */
export interface FastProperties {
  messageId: ScalarValue | undefined;
  to: ScalarValue | undefined;
  subject: ScalarValue | undefined;
  replyTo: ScalarValue | undefined;
  correlationId: ScalarValue | undefined;
  contentType: ScalarValue | undefined;
  groupId: ScalarValue | undefined;
  replyToGroupId: ScalarValue | undefined;
}

// Positions in the properties list: message-id, user-id, to, subject, reply-to, correlation-id,
// content-type, content-encoding, absolute-expiry-time, creation-time, group-id, group-sequence,
// reply-to-group-id.
const wantedProperties = new Set([0, 2, 3, 4, 5, 6, 10, 12]);

function readProperties(buf: Buffer, pos: number, end: number): FastProperties | undefined {
  const list = compoundAt(buf, pos, true);
  if (list?.end !== end) return undefined;
  const properties: FastProperties = {
    messageId: undefined,
    to: undefined,
    subject: undefined,
    replyTo: undefined,
    correlationId: undefined,
    contentType: undefined,
    groupId: undefined,
    replyToGroupId: undefined,
  };
  const slot: { value: ScalarValue } = { value: null };
  let at = list.first;
  for (let i = 0; i < list.count; i++) {
    if (!wantedProperties.has(i) || buf[at] === 0x40) {
      at = skipValue(buf, at);
      if (at < 0) return undefined;
      continue;
    }
    at = readScalar(buf, at, slot);
    if (at < 0) return undefined;
    const value = slot.value ?? undefined;
    if (i === 0) properties.messageId = value;
    else if (i === 2) properties.to = value;
    else if (i === 3) properties.subject = value;
    else if (i === 4) properties.replyTo = value;
    else if (i === 5) properties.correlationId = value;
    else if (i === 6) properties.contentType = value;
    else if (i === 10) properties.groupId = value;
    else properties.replyToGroupId = value;
  }
  return at === end ? properties : undefined;
}

/** The sections of one message as offsets, with the fields decoded from them. */
export interface FastSections {
  header: FastHeader | undefined;
  annotations: Record<string, unknown> | undefined;
  properties: FastProperties | undefined;
  applicationProperties: Record<string, unknown> | undefined;
  propertiesStart: number;
  propertiesEnd: number;
  applicationPropertiesStart: number;
  bodyStart: number;
}

/**
 * Reads a message laid out as the spec orders it (header, delivery annotations, message annotations,
 * properties, application properties, then body sections and footer), every section with a small
 * ulong descriptor. Undefined for any other layout or encoding.
 */
export function readSections(raw: Buffer): FastSections | undefined {
  const sections: FastSections = {
    header: undefined,
    annotations: undefined,
    properties: undefined,
    applicationProperties: undefined,
    propertiesStart: -1,
    propertiesEnd: -1,
    applicationPropertiesStart: -1,
    bodyStart: raw.length,
  };
  let previous = 0;
  let pos = 0;
  while (pos < raw.length) {
    if (raw[pos] !== 0x00 || raw[pos + 1] !== 0x53 || pos + 3 >= raw.length) return undefined;
    const code = raw[pos + 2] ?? 0;
    const valueAt = pos + 3;
    if (code < 0x70 || code <= previous) return undefined;
    // Header, annotations, properties: their readers check every item against the declared size.
    const end = code >= 0x75 || code === 0x71 ? skipValue(raw, valueAt) : declaredEnd(raw, valueAt);
    if (end < 0) return undefined;
    if (code >= 0x75) {
      // The first body section ends the walk; the rest travels as bytes, as in the rhea path.
      sections.bodyStart = pos;
      return sections;
    }
    if (code === 0x70) {
      sections.header = readHeader(raw, valueAt, end);
      if (sections.header === undefined) return undefined;
    } else if (code === 0x72) {
      sections.annotations = readScalarMap(raw, valueAt, end);
      if (sections.annotations === undefined) return undefined;
    } else if (code === 0x73) {
      sections.properties = readProperties(raw, valueAt, end);
      if (sections.properties === undefined) return undefined;
      sections.propertiesStart = pos;
      sections.propertiesEnd = end;
    } else if (code === 0x74) {
      sections.applicationProperties = readScalarMap(raw, valueAt, end);
      if (sections.applicationProperties === undefined) return undefined;
      sections.applicationPropertiesStart = pos;
    } else if (code !== 0x71) return undefined;
    previous = code;
    pos = end;
  }
  return sections;
}

/**
 * The messages inside a batch envelope (format 0x80013700): the payload of each data section
 * (descriptor 0x00 0x53 0x75, then vbin8 or vbin32), as views on the envelope. Other sections of the
 * envelope (the first message's annotations and properties) are skipped. Undefined when the envelope
 * holds anything this scanner does not recognise.
 */
export function scanBatchEnvelope(envelope: Buffer): Buffer[] | undefined {
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos < envelope.length) {
    if (envelope[pos] !== 0x00 || envelope[pos + 1] !== 0x53 || pos + 3 >= envelope.length) return undefined;
    const code = envelope[pos + 2];
    const type = envelope[pos + 3];
    if (code === 0x75 && (type === 0xa0 || type === 0xb0)) {
      const width = type === 0xa0 ? 1 : 4;
      const end = variableEnd(envelope, pos + 4, width);
      if (end < 0) return undefined;
      parts.push(envelope.subarray(pos + 4 + width, end));
      pos = end;
      continue;
    }
    if (code === 0x75) return undefined;
    pos = skipValue(envelope, pos + 3);
    if (pos < 0) return undefined;
  }
  return parts;
}
