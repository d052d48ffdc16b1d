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
  const { first, count, end } = header;
  let item = first;
  for (let i = 0; i < count; i++) {
    item = skipValue(buf, item);
    if (item < 0) return unknownShape;
  }
  return item === end ? item : unknownShape;
}

interface CompoundHeader {
  /** Offset of the first item. */
  first: number;
  count: number;
  /** Offset just past the compound, per its size field. */
  end: number;
}

/**
 * The one header object the readers share: read every compound header on the hot path without
 * garbage. Callers copy its fields into locals before reading anything else.
 */
const scratch: CompoundHeader = { first: 0, count: 0, end: 0 };

function readCompoundHeader(buf: Buffer, at: number, width: 1 | 4): CompoundHeader | undefined {
  if (at + 2 * width > buf.length) return undefined;
  const size = width === 1 ? (buf[at] ?? 0) : buf.readUInt32BE(at);
  const count = width === 1 ? (buf[at + 1] ?? 0) : buf.readUInt32BE(at + 4);
  const end = at + width + size;
  if (size < width || end > buf.length) return undefined;
  scratch.first = at + 2 * width;
  scratch.count = count;
  scratch.end = end;
  return scratch;
}

/** A list or map value at `pos` (list0 included): its items' offsets. */
function compoundAt(buf: Buffer, pos: number, list: boolean): CompoundHeader | undefined {
  const code = buf[pos];
  if (list && code === 0x45) {
    scratch.first = scratch.end = pos + 1;
    scratch.count = 0;
    return scratch;
  }
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

/** The one slot `readScalar` writes to; callers take the value out before the next read. */
const slot: { value: ScalarValue } = { value: null };

/** Type codes `readScalar` builds values for: everything else goes to rhea. */
const scalarCodes = new Uint8Array(256);
for (const code of [
  0x40, 0x41, 0x42, 0x43, 0x44, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x60, 0x61, 0x70, 0x71, 0x72, 0x73, 0x80, 0x81,
  0x82, 0x83, 0x98, 0xa0, 0xa1, 0xa3, 0xb0, 0xb1, 0xb3,
]) {
  scalarCodes[code] = 1;
}
// Not read here: 0x56 (rhea yields its byte, not a boolean), decimals, list0 (rhea shares one
// instance), compounds, arrays and described values.

/** End of the scalar at `pos` if `readScalar` can decode it, else -1: checks without building. */
function scalarEnd(buf: Buffer, pos: number): number {
  const code = buf[pos] ?? 0;
  if (scalarCodes[code] !== 1) return unknownShape;
  if (code >= 0xa0) return variableEnd(buf, pos + 1, code < 0xb0 ? 1 : 4);
  const end = pos + 1 + (fixedWidths[code] ?? 0);
  if (end > buf.length) return unknownShape;
  if ((code === 0x80 || code === 0x81 || code === 0x83) && readSafeLong(buf, pos + 1, code !== 0x80) === undefined)
    return unknownShape;
  return end;
}

/**
 * Decodes the scalar at `pos` into `out.value` (the same value rhea's decoder + unwrap produce) and
 * returns its end, or -1 for anything `scalarEnd` refuses.
 */
function readScalar(buf: Buffer, pos: number, out: { value: ScalarValue }): number {
  const end = scalarEnd(buf, pos);
  if (end < 0) return unknownShape;
  const code = buf[pos] ?? 0;
  const at = pos + 1;
  switch (code) {
    case 0x40:
      out.value = null;
      break;
    case 0x41:
      out.value = true;
      break;
    case 0x42:
      out.value = false;
      break;
    case 0x43:
    case 0x44:
      out.value = 0;
      break;
    case 0x50:
    case 0x52:
    case 0x53:
      out.value = buf.readUInt8(at);
      break;
    case 0x51:
    case 0x54:
    case 0x55:
      out.value = buf.readInt8(at);
      break;
    case 0x60:
      out.value = buf.readUInt16BE(at);
      break;
    case 0x61:
      out.value = buf.readInt16BE(at);
      break;
    case 0x70:
    case 0x73:
      out.value = buf.readUInt32BE(at);
      break;
    case 0x71:
      out.value = buf.readInt32BE(at);
      break;
    case 0x72:
      out.value = buf.readFloatBE(at);
      break;
    case 0x82:
      out.value = buf.readDoubleBE(at);
      break;
    case 0x80:
    case 0x81:
      out.value = readSafeLong(buf, at, code === 0x81) ?? 0;
      break;
    case 0x83:
      out.value = new Date(readSafeLong(buf, at, true) ?? 0);
      break;
    case 0x98:
      out.value = buf.subarray(at, end);
      break;
    case 0xa0:
    case 0xb0:
      out.value = buf.subarray(code === 0xa0 ? at + 1 : at + 4, end);
      break;
    default:
      // Strings (0xa1, 0xb1) and symbols (0xa3, 0xb3), decoded as rhea does.
      out.value = buf.toString(code === 0xa1 || code === 0xb1 ? 'utf8' : 'ascii', code < 0xb0 ? at + 1 : at + 4, end);
  }
  return end;
}

/** Whether `readScalarMap` would read the map at `pos`, without building it. */
function isScalarMap(buf: Buffer, pos: number, end: number): boolean {
  const map = compoundAt(buf, pos, false);
  if (map?.end !== end || map.count % 2 !== 0) return false;
  const count = map.count;
  let at = map.first;
  for (let i = 0; i < count && at >= 0; i += 2) {
    const keyCode = buf[at];
    if (keyCode !== 0xa1 && keyCode !== 0xb1 && keyCode !== 0xa3 && keyCode !== 0xb3) return false;
    at = scalarEnd(buf, at);
    if (at >= 0) at = scalarEnd(buf, at);
  }
  return at === end;
}

/** A map of string/symbol keys to scalars, as rhea's `unwrap_map_simple` builds it; undefined otherwise. */
export function readScalarMap(buf: Buffer, pos: number, end: number): Record<string, unknown> | undefined {
  const map = compoundAt(buf, pos, false);
  if (map?.end !== end || map.count % 2 !== 0) return undefined;
  const count = map.count;
  const result: Record<string, unknown> = {};
  let at = map.first;
  for (let i = 0; i < count; i += 2) {
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

/** Shared by every message that sends an empty header (the JS SDK's usual list0); never mutated. */
const defaultHeader: FastHeader = Object.freeze({ durable: false, priority: undefined, ttlMs: undefined });
/** Shared by every message whose annotations map is empty; never mutated (deliveries copy it). */
const emptyMap: Record<string, unknown> = Object.freeze({});

function readHeader(buf: Buffer, pos: number, end: number): FastHeader | undefined {
  const list = compoundAt(buf, pos, true);
  if (list?.end !== end) return undefined;
  const count = list.count;
  if (count === 0) return defaultHeader;
  const header: FastHeader = { durable: false, priority: undefined, ttlMs: undefined };
  let at = list.first;
  for (let i = 0; i < count; i++) {
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

/** Decodes a properties list `readSections` accepted (undefined for any other bytes). */
export function readProperties(buf: Buffer, pos: number, end: number): FastProperties | undefined {
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
  const count = list.count;
  let at = list.first;
  for (let i = 0; i < count; i++) {
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

/**
 * The sections of one message as offsets. What every send needs is decoded now (header, message
 * annotations, message id, group id); the other properties and the application properties are only
 * checked here and decoded on first use (`readProperties`, `readScalarMap`).
 */
export class FastSections {
  sectionHeader: FastHeader | undefined = undefined;
  sectionAnnotations: Record<string, unknown> | undefined = undefined;
  rawMessageId: ScalarValue | undefined = undefined;
  rawGroupId: ScalarValue | undefined = undefined;
  /** Offsets of the properties section (descriptor, list, end); -1 when absent. */
  propertiesStart = -1;
  propertiesValue = -1;
  propertiesEnd = -1;
  applicationPropertiesStart = -1;
  applicationPropertiesValue = -1;
  applicationPropertiesEnd = -1;
  bodyStart = 0;
}

/** Checks a properties list the way `readProperties` reads it, decoding only message-id and group-id. */
function checkProperties(buf: Buffer, pos: number, end: number, sections: FastSections): boolean {
  const list = compoundAt(buf, pos, true);
  if (list?.end !== end) return false;
  const count = list.count;
  let at = list.first;
  for (let i = 0; i < count && at >= 0; i++) {
    if (i === 0 || i === 10) {
      at = readScalar(buf, at, slot);
      if (i === 0) sections.rawMessageId = slot.value ?? undefined;
      else sections.rawGroupId = slot.value ?? undefined;
    } else at = wantedProperties.has(i) ? scalarEnd(buf, at) : skipValue(buf, at);
  }
  return at === end;
}

/**
 * Reads a message laid out as the spec orders it (header, delivery annotations, message annotations,
 * properties, application properties, then body sections and footer), every section with a small
 * ulong descriptor, into `sections`. False for any other layout or encoding.
 */
export function readSections(raw: Buffer, sections: FastSections): boolean {
  sections.bodyStart = raw.length;
  let previous = 0;
  let pos = 0;
  while (pos < raw.length) {
    if (raw[pos] !== 0x00 || raw[pos + 1] !== 0x53 || pos + 3 >= raw.length) return false;
    const code = raw[pos + 2] ?? 0;
    const valueAt = pos + 3;
    if (code < 0x70 || code <= previous) return false;
    // Header, annotations, properties: their readers check every item against the declared size.
    const end = code >= 0x75 || code === 0x71 ? skipValue(raw, valueAt) : declaredEnd(raw, valueAt);
    if (end < 0) return false;
    if (code >= 0x75) {
      // The first body section ends the walk; the rest travels as bytes, as in the rhea path.
      sections.bodyStart = pos;
      return true;
    }
    if (code === 0x70) {
      sections.sectionHeader = readHeader(raw, valueAt, end);
      if (sections.sectionHeader === undefined) return false;
    } else if (code === 0x72) {
      const empty = raw[valueAt] === 0xc1 && raw[valueAt + 2] === 0 && end === valueAt + 3;
      sections.sectionAnnotations = empty ? emptyMap : readScalarMap(raw, valueAt, end);
      if (sections.sectionAnnotations === undefined) return false;
    } else if (code === 0x73) {
      if (!checkProperties(raw, valueAt, end, sections)) return false;
      sections.propertiesStart = pos;
      sections.propertiesValue = valueAt;
      sections.propertiesEnd = end;
    } else if (code === 0x74) {
      if (!isScalarMap(raw, valueAt, end)) return false;
      sections.applicationPropertiesStart = pos;
      sections.applicationPropertiesValue = valueAt;
      sections.applicationPropertiesEnd = end;
    } else if (code !== 0x71) return false;
    previous = code;
    pos = end;
  }
  return true;
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
