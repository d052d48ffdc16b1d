import * as rhea from 'rhea';
import { reorderGuidBytes } from './guidOrder';
import {
  readProperties,
  readScalarMap,
  readSections,
  scanBatchEnvelope,
  type FastProperties,
  FastSections,
} from './fastCodec';

/**
 * The AMQP encoding work of the broker. rhea's typings describe its codec with `any`; this module is
 * the one place that talks to it, and everything it hands out is typed or `unknown`.
 */

interface AmqpValue {
  readonly descriptor?: { readonly value: unknown } | undefined;
  readonly value: unknown;
}
interface AmqpReader {
  position: number;
  read(): AmqpValue;
  remaining(): number;
}
interface AmqpWriter {
  write(value: unknown): void;
  write_bytes(bytes: Buffer): void;
  toBuffer(): Buffer;
}
interface AmqpCodec {
  Reader: new (buffer: Buffer) => AmqpReader;
  Writer: new (buffer?: Buffer) => AmqpWriter;
  described(descriptor: unknown, value: unknown): unknown;
  wrap_ulong(value: number): unknown;
  wrap_symbolic_map(map: Record<string, unknown>): unknown;
  wrap_map(map: Record<string, unknown>): unknown;
  wrap_long(value: number | Buffer): unknown;
  wrap_int(value: number): unknown;
  wrap_uint(value: number): unknown;
  wrap_timestamp(value: number): unknown;
  wrap_uuid(value: Buffer): unknown;
  wrap_array(values: unknown[], code: number, descriptors: undefined): unknown;
  wrap_string(value: string): unknown;
  wrap_symbol(value: string): unknown;
  wrap_binary(value: Buffer): unknown;
  wrap_boolean(value: boolean): unknown;
  wrap_list(values: unknown[]): unknown;
  wrap(value: unknown): unknown;
  unwrap(value: unknown): unknown;
  unwrap_map_simple(value: unknown): unknown;
}
// rhea's published typings omit Reader/Writer from `types`; the runtime object has them (pinned 3.0.5).
const codec = rhea.types as unknown as AmqpCodec;
const messageCodec = rhea.message as unknown as {
  properties(fields: Record<string, unknown>): { described(): unknown };
  encode(message: Record<string, unknown>): Buffer;
  decode(buffer: Buffer): unknown;
  data_section(data: Buffer): unknown;
  data_sections(data: Buffer[]): unknown;
};

export const typed = {
  long: (v: number): unknown => codec.wrap_long(v),
  int: (v: number): unknown => codec.wrap_int(v),
  uint: (v: number): unknown => codec.wrap_uint(v),
  timestamp: (ms: number): unknown => codec.wrap_timestamp(ms),
  string: (v: string): unknown => codec.wrap_string(v),
  symbol: (v: string): unknown => codec.wrap_symbol(v),
  binary: (v: Buffer): unknown => codec.wrap_binary(v),
  boolean: (v: boolean): unknown => codec.wrap_boolean(v),
  uuid: (v: Buffer): unknown => codec.wrap_uuid(v),
  map: (v: Record<string, unknown>): unknown => codec.wrap_map(v),
  list: (v: unknown[]): unknown => codec.wrap_list(v),
  /** AMQP array of longs (0x81), the shape the SDK sends and expects for sequence numbers. */
  longArray: (v: number[]): unknown => codec.wrap_array(v, 0x81, undefined),
  /** AMQP array of uuids (0x98). */
  uuidArray: (v: Buffer[]): unknown => codec.wrap_array(v, 0x98, undefined),
  /** AMQP array of timestamps (0x83). */
  timestampArray: (v: number[]): unknown => codec.wrap_array(v, 0x83, undefined),
  /** AMQP array of strings (0xb1). */
  stringArray: (v: string[]): unknown => codec.wrap_array(v, 0xb1, undefined),
};

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

export function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** An AMQP long arrives as a number when it fits 2^53, else as its 8 big-endian bytes. */
export function toLongNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE(0));
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}

export function decodeMessage(buffer: Buffer): Record<string, unknown> {
  const decoded = messageCodec.decode(buffer);
  return isRecord(decoded) ? decoded : {};
}

export function encodeMessage(message: Record<string, unknown>): Buffer {
  return messageCodec.encode(message);
}

export function dataSection(data: Buffer): unknown {
  return messageCodec.data_section(data);
}

/** The broker-visible parts of a message plus its untouched tail (properties onward). */
export interface ParsedMessage {
  header: { durable: boolean; priority: number | undefined; ttlMs: number | undefined };
  annotations: Record<string, unknown>;
  messageId: string | undefined;
  sessionId: string | undefined;
  correlationId: string | undefined;
  subject: string | undefined;
  to: string | undefined;
  replyTo: string | undefined;
  replyToSessionId: string | undefined;
  contentType: string | undefined;
  applicationProperties: Record<string, unknown>;
  /** Encoded properties section, if any. */
  propertiesBytes: Buffer;
  /** Encoded body sections and footer. */
  bodyBytes: Buffer;
  size: number;
}

const sectionCodes: Record<string, number> = {
  'amqp:header:list': 0x70,
  'amqp:delivery-annotations:map': 0x71,
  'amqp:message-annotations:map': 0x72,
  'amqp:properties:list': 0x73,
  'amqp:application-properties:map': 0x74,
};

function sectionCode(section: AmqpValue): number {
  const d = section.descriptor?.value;
  if (typeof d === 'number') return d;
  if (typeof d === 'string') return sectionCodes[d] ?? 0x75;
  return -1;
}

function messageIdText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Buffer.isBuffer(value) && value.length === 16) return rhea.uuid_to_string(value);
  return undefined;
}

/**
 * Splits an encoded message into its sections once, on arrival. Deliveries later re-encode only the
 * header and message annotations and copy the rest as bytes. The hand-written reader handles the
 * shapes the SDKs send; anything else takes rhea's generic decoder (same result, ~10x slower).
 */
export function parseMessage(raw: Buffer): ParsedMessage {
  return parseMessageFast(raw) ?? parseMessageWithRhea(raw);
}

const noBytes = Buffer.alloc(0);
const noHeader: ParsedMessage['header'] = Object.freeze({ durable: false, priority: undefined, ttlMs: undefined });
const noAnnotations: Record<string, unknown> = Object.freeze({});

/**
 * What the fast path returns: the fields every send uses are read on arrival, the ones only filters,
 * dead-lettering and deliveries use are decoded (once) when first asked for. One object per message:
 * the section offsets are its own fields. Getters live on the prototype, so copy it field by field
 * (`copyParsed`), never with a spread.
 */
class LazyParsedMessage extends FastSections implements ParsedMessage {
  private properties: FastProperties | undefined = undefined;
  private appProperties: Record<string, unknown> | undefined = undefined;

  constructor(private readonly raw: Buffer) {
    super();
  }

  get header(): ParsedMessage['header'] {
    return this.sectionHeader ?? noHeader;
  }
  get annotations(): Record<string, unknown> {
    return this.sectionAnnotations ?? noAnnotations;
  }
  get messageId(): string | undefined {
    return messageIdText(this.rawMessageId);
  }
  get sessionId(): string | undefined {
    return optionalString(this.rawGroupId);
  }
  get size(): number {
    return this.raw.length;
  }
  /** The bytes as received (the emulator's journal stores them as they are). */
  get source(): Buffer {
    return this.raw;
  }

  private decodedProperties(): FastProperties | undefined {
    if (this.propertiesValue < 0) return undefined;
    this.properties ??= readProperties(this.raw, this.propertiesValue, this.propertiesEnd);
    return this.properties;
  }

  get correlationId(): string | undefined {
    return messageIdText(this.decodedProperties()?.correlationId);
  }
  get subject(): string | undefined {
    return optionalString(this.decodedProperties()?.subject);
  }
  get to(): string | undefined {
    return optionalString(this.decodedProperties()?.to);
  }
  get replyTo(): string | undefined {
    return optionalString(this.decodedProperties()?.replyTo);
  }
  get replyToSessionId(): string | undefined {
    return optionalString(this.decodedProperties()?.replyToGroupId);
  }
  get contentType(): string | undefined {
    return optionalString(this.decodedProperties()?.contentType);
  }
  get applicationProperties(): Record<string, unknown> {
    if (this.applicationPropertiesValue < 0) return {};
    this.appProperties ??=
      readScalarMap(this.raw, this.applicationPropertiesValue, this.applicationPropertiesEnd) ?? {};
    return this.appProperties;
  }
  get propertiesBytes(): Buffer {
    return this.propertiesStart < 0 ? noBytes : this.raw.subarray(this.propertiesStart, this.propertiesEnd);
  }
  get bodyBytes(): Buffer {
    // Application properties travel with the body: they change only when dead-lettering.
    return this.raw.subarray(this.applicationPropertiesStart >= 0 ? this.applicationPropertiesStart : this.bodyStart);
  }
}

/** The fast path of `parseMessage`; undefined when the encoding is not one it recognises. */
export function parseMessageFast(raw: Buffer): ParsedMessage | undefined {
  const message = new LazyParsedMessage(raw);
  return readSections(raw, message) ? message : undefined;
}

/** The bytes a message was parsed from, when the fast path kept them; else undefined. */
export function sourceBytes(parsed: ParsedMessage): Buffer | undefined {
  return parsed instanceof LazyParsedMessage ? parsed.source : undefined;
}

/** A plain copy of every field (a spread would miss `LazyParsedMessage`'s getters). */
export function copyParsed(parsed: ParsedMessage): ParsedMessage {
  return {
    header: parsed.header,
    annotations: parsed.annotations,
    messageId: parsed.messageId,
    sessionId: parsed.sessionId,
    correlationId: parsed.correlationId,
    subject: parsed.subject,
    to: parsed.to,
    replyTo: parsed.replyTo,
    replyToSessionId: parsed.replyToSessionId,
    contentType: parsed.contentType,
    applicationProperties: parsed.applicationProperties,
    propertiesBytes: parsed.propertiesBytes,
    bodyBytes: parsed.bodyBytes,
    size: parsed.size,
  };
}

/** The generic path of `parseMessage`: rhea decodes every section. */
export function parseMessageWithRhea(raw: Buffer): ParsedMessage {
  const reader = new codec.Reader(raw);
  let header: Record<string, unknown> = {};
  let annotations: Record<string, unknown> = {};
  let properties: Record<string, unknown> = {};
  let applicationProperties: Record<string, unknown> = {};
  let propertiesRange: [number, number] | undefined;
  let appPropertiesStart = -1;
  let bodyStart = raw.length;
  // One pass: each section is decoded from the value the reader already built.
  while (reader.remaining() > 0) {
    const start = reader.position;
    const section = reader.read();
    const code = sectionCode(section);
    if (code === 0x70) header = listFields(codec.unwrap(section), headerFields);
    else if (code === 0x72) annotations = mapFields(codec.unwrap_map_simple(section));
    else if (code === 0x73) {
      properties = listFields(codec.unwrap(section), propertyFields);
      propertiesRange = [start, reader.position];
    } else if (code === 0x74) {
      applicationProperties = mapFields(codec.unwrap_map_simple(section));
      appPropertiesStart = start;
    } else if (code >= 0x75 || code < 0) {
      bodyStart = start;
      break;
    }
  }
  const ttl = header.ttl;
  const priority = header.priority;
  return {
    header: {
      durable: header.durable === true,
      priority: typeof priority === 'number' ? priority : undefined,
      ttlMs: typeof ttl === 'number' && ttl > 0 ? ttl : undefined,
    },
    annotations,
    messageId: messageIdText(properties.message_id),
    sessionId: optionalString(properties.group_id),
    correlationId: messageIdText(properties.correlation_id),
    subject: optionalString(properties.subject),
    to: optionalString(properties.to),
    replyTo: optionalString(properties.reply_to),
    replyToSessionId: optionalString(properties.reply_to_group_id),
    contentType: optionalString(properties.content_type),
    applicationProperties,
    propertiesBytes: propertiesRange ? raw.subarray(propertiesRange[0], propertiesRange[1]) : Buffer.alloc(0),
    // Keep application properties with the body: they change only when dead-lettering.
    bodyBytes: raw.subarray(appPropertiesStart >= 0 ? appPropertiesStart : bodyStart),
    size: raw.length,
  };
}

const headerFields = ['durable', 'priority', 'ttl', 'first_acquirer', 'delivery_count'];
const propertyFields = [
  'message_id',
  'user_id',
  'to',
  'subject',
  'reply_to',
  'correlation_id',
  'content_type',
  'content_encoding',
  'absolute_expiry_time',
  'creation_time',
  'group_id',
  'group_sequence',
  'reply_to_group_id',
];

/** AMQP composites (header, properties) are lists: name their fields by position. */
function listFields(value: unknown, names: string[]): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (!Array.isArray(value)) return fields;
  names.forEach((name, i) => {
    const v: unknown = value[i];
    if (v !== undefined && v !== null) fields[name] = v;
  });
  return fields;
}

function mapFields(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

/** Service Bus gives a message without an id one (the SDK's lock renewal needs it). */
export function withMessageId(parsed: ParsedMessage, messageId: string): ParsedMessage {
  const fields: Record<string, unknown> =
    parsed.propertiesBytes.length > 0 ? { ...decodeMessage(parsed.propertiesBytes) } : {};
  fields.message_id = messageId;
  const writer = new codec.Writer();
  writer.write(messageCodec.properties(fields).described());
  const propertiesBytes = writer.toBuffer();
  return {
    ...copyParsed(parsed),
    messageId,
    propertiesBytes,
    size: parsed.size - parsed.propertiesBytes.length + propertiesBytes.length,
  };
}

/** A transfer with message-format 0x80013700 carries one envelope whose data sections are messages. */
export function splitBatch(envelope: Buffer): Buffer[] {
  return scanBatchEnvelope(envelope) ?? splitBatchWithRhea(envelope);
}

/** The generic path of `splitBatch`: rhea decodes every section of the envelope. */
export function splitBatchWithRhea(envelope: Buffer): Buffer[] {
  const reader = new codec.Reader(envelope);
  const parts: Buffer[] = [];
  while (reader.remaining() > 0) {
    const section = reader.read();
    if (sectionCode(section) === 0x75 && Buffer.isBuffer(section.value)) parts.push(section.value);
  }
  return parts;
}

export const batchMessageFormat = 0x80013700;

function writeHeader(writer: AmqpWriter, header: ParsedMessage['header'], deliveryCount: number): void {
  // header is list(durable, priority, ttl, first-acquirer, delivery-count); hand-encoded, it is hot.
  const fields: number[] = [];
  fields.push(header.durable ? 0x41 : 0x42);
  if (header.priority === undefined) fields.push(0x40);
  else fields.push(0x50, header.priority & 0xff);
  if (header.ttlMs === undefined) fields.push(0x40);
  else {
    const ttl = Math.min(header.ttlMs, 0xffffffff);
    fields.push(0x70, (ttl >>> 24) & 0xff, (ttl >>> 16) & 0xff, (ttl >>> 8) & 0xff, ttl & 0xff);
  }
  fields.push(0x42);
  fields.push(
    0x70,
    (deliveryCount >>> 24) & 0xff,
    (deliveryCount >>> 16) & 0xff,
    (deliveryCount >>> 8) & 0xff,
    deliveryCount & 0xff,
  );
  writer.write_bytes(Buffer.from([0x00, 0x53, 0x70, 0xc0, fields.length + 1, 5, ...fields]));
}

export interface DeliveryParts {
  parsed: ParsedMessage;
  deliveryCount: number;
  annotations: Record<string, unknown>;
  /** Replaces the application properties + body bytes (dead-lettering adds properties). */
  bodyBytes?: Buffer;
}

/** Encodes a message for a receiver: fresh header and annotations, original properties and body. */
export function encodeDelivery(parts: DeliveryParts): Buffer {
  const writer = new codec.Writer(Buffer.allocUnsafe(parts.parsed.size + 256));
  writeHeader(writer, parts.parsed.header, parts.deliveryCount);
  writer.write(codec.described(codec.wrap_ulong(0x72), codec.wrap_symbolic_map(parts.annotations)));
  writer.write_bytes(parts.parsed.propertiesBytes);
  writer.write_bytes(parts.bodyBytes ?? parts.parsed.bodyBytes);
  return writer.toBuffer();
}

/**
 * Application properties + body with extra properties (DeadLetterReason etc.) set. `bodyBytes` is the
 * message's current application properties + body. The existing entries are copied as encoded, so
 * their AMQP types (int, long, double, uuid...) reach the receiver unchanged; an extra property
 * replaces an existing one of the same name.
 */
export function withApplicationProperties(
  parsed: Pick<ParsedMessage, 'applicationProperties' | 'bodyBytes'>,
  extra: Record<string, unknown>,
): Buffer {
  const { entries, rest } = splitApplicationProperties(parsed.bodyBytes);
  const kept = entries.filter((entry) => entry.key === undefined || !Object.hasOwn(extra, entry.key));
  const writer = new codec.Writer();
  let count = kept.length * 2;
  for (const [key, value] of Object.entries(extra)) {
    writer.write(codec.wrap_string(key));
    writer.write(codec.wrap(value));
    count += 2;
  }
  const items = Buffer.concat([...kept.map((entry) => entry.bytes), writer.toBuffer()]);
  // described(ulong 0x74, map32(size, count, items))
  const head = Buffer.from([0x00, 0x53, 0x74, 0xd1, 0, 0, 0, 0, 0, 0, 0, 0]);
  head.writeUInt32BE(items.length + 4, 4);
  head.writeUInt32BE(count, 8);
  return Buffer.concat([head, items, rest]);
}

interface EncodedEntry {
  /** The key as text (undefined for a non-string key, which is kept as is). */
  key: string | undefined;
  /** Key and value as encoded. */
  bytes: Buffer;
}

/** The entries of a leading application-properties section (as bytes) and what follows it. */
function splitApplicationProperties(bytes: Buffer): { entries: EncodedEntry[]; rest: Buffer } {
  if (bytes.length === 0 || bytes[0] !== 0x00) return { entries: [], rest: bytes };
  const whole = new codec.Reader(bytes);
  const section = whole.read();
  if (sectionCode(section) !== 0x74) return { entries: [], rest: bytes };
  const sectionEnd = whole.position;
  const descriptor = new codec.Reader(bytes.subarray(1, sectionEnd));
  descriptor.read();
  const mapAt = 1 + descriptor.position;
  const code = bytes[mapAt];
  let first: number;
  let count: number;
  if (code === 0xc1) {
    count = bytes[mapAt + 2] ?? 0;
    first = mapAt + 3;
  } else if (code === 0xd1) {
    count = bytes.readUInt32BE(mapAt + 5);
    first = mapAt + 9;
  } else {
    return { entries: [], rest: bytes.subarray(sectionEnd) }; // null: no properties
  }
  const items = bytes.subarray(first, sectionEnd);
  const reader = new codec.Reader(items);
  const entries: EncodedEntry[] = [];
  for (let i = 0; i + 1 < count; i += 2) {
    const start = reader.position;
    const key = codec.unwrap(reader.read());
    reader.read();
    entries.push({ key: typeof key === 'string' ? key : undefined, bytes: items.subarray(start, reader.position) });
  }
  return { entries, rest: bytes.subarray(sectionEnd) };
}

/** .NET ticks (100 ns since 0001-01-01) as an AMQP long: what `com.microsoft:locked-until-utc` carries. */
export function ticksLong(ms: number): unknown {
  const ticks = BigInt(Math.floor(ms)) * 10_000n + 621_355_968_000_000_000n;
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(ticks);
  return codec.wrap_long(bytes);
}

export function uuidToString(bytes: Buffer): string {
  return rhea.uuid_to_string(bytes);
}

export function stringToUuid(text: string): Buffer {
  return rhea.string_to_uuid(text);
}

/** The delivery tag whose SDK rendering (after its byte swap) is `token`. */
export function deliveryTagForToken(token: string): Buffer {
  return reorderGuidBytes(rhea.string_to_uuid(token));
}

/** The lock token string the SDK shows for a delivery tag. */
export function tokenForDeliveryTag(tag: Buffer): string {
  return rhea.uuid_to_string(reorderGuidBytes(tag));
}

export interface AmqpErrorShape {
  condition: string;
  description: string;
  info?: Record<string, unknown>;
}

export const conditions = {
  notFound: 'amqp:not-found',
  unauthorized: 'amqp:unauthorized-access',
  notAllowed: 'amqp:not-allowed',
  invalidField: 'amqp:invalid-field',
  messageSizeExceeded: 'amqp:link:message-size-exceeded',
  internal: 'amqp:internal-error',
  timeout: 'com.microsoft:timeout',
  sessionCannotBeLocked: 'com.microsoft:session-cannot-be-locked',
  sessionLockLost: 'com.microsoft:session-lock-lost',
  messageLockLost: 'com.microsoft:message-lock-lost',
  messageNotFound: 'com.microsoft:message-not-found',
  argumentError: 'com.microsoft:argument-error',
  deadLetter: 'com.microsoft:dead-letter',
} as const;
