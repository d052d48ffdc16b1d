/**
 * A JSON document stored across string properties of one Table entity: a property holds at most
 * 64 KiB, an entity at most 1 MiB. The text is kept ASCII (every non-ASCII UTF-16 unit written as a
 * JSON \u escape), which JSON.parse undoes exactly. Two reasons: chunks can then be cut anywhere
 * without splitting a character, and Azurite 3.35 corrupts multi-byte UTF-8 that straddles network
 * chunk boundaries of a large request (seen in test/int/adapters/tableOrderStore.int.test.ts).
 */

/** Characters per property: ASCII is 2 bytes per char in Table Storage, so 32,000 stays under 64 KiB. */
export const chunkChars = 32_000;
/** 500,000 chars ≈ 1,000,000 bytes: room for keys and system properties under the 1 MiB entity limit. */
export const maxJsonChars = 500_000;
const maxChunks = Math.ceil(maxJsonChars / chunkChars);

export class JsonTooLargeError extends Error {
  constructor(what: string, chars: number) {
    super(
      `${what} serializes to ${String(chars)} characters; one Table entity holds at most ${String(maxJsonChars)} (1 MiB entity limit).`,
    );
    this.name = 'JsonTooLargeError';
  }
}

export class UnreadableJsonError extends Error {
  constructor(what: string, detail: string) {
    super(`${what} cannot be read: ${detail}`);
    this.name = 'UnreadableJsonError';
  }
}

export const chunkProperty = (index: number): string => `json${String(index).padStart(2, '0')}`;

export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** `chunks` + `json00`, `json01`, ... for `value`; JsonTooLargeError when it cannot fit one entity. */
export function toJsonColumns(what: string, value: unknown): Record<string, string | number> {
  const json = asciiJson(value);
  if (json.length > maxJsonChars) throw new JsonTooLargeError(what, json.length);
  const columns: Record<string, string | number> = { chunks: Math.max(1, Math.ceil(json.length / chunkChars)) };
  for (let index = 0, start = 0; start < json.length || index === 0; index++, start += chunkChars) {
    columns[chunkProperty(index)] = json.slice(start, start + chunkChars);
  }
  return columns;
}

/** The parsed JSON of an entity written by toJsonColumns (still `unknown`: the caller validates it). */
export function fromJsonColumns(what: string, entity: Record<string, unknown>): unknown {
  const chunks = entity['chunks'];
  if (typeof chunks !== 'number' || !Number.isInteger(chunks) || chunks < 1 || chunks > maxChunks) {
    throw new UnreadableJsonError(what, 'missing or invalid chunk count');
  }
  let json = '';
  for (let index = 0; index < chunks; index++) {
    const chunk = entity[chunkProperty(index)];
    if (typeof chunk !== 'string') throw new UnreadableJsonError(what, `missing ${chunkProperty(index)}`);
    json += chunk;
  }
  try {
    return JSON.parse(json);
  } catch {
    throw new UnreadableJsonError(what, 'the JSON does not parse');
  }
}
