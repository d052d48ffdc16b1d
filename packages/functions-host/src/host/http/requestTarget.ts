/**
 * The request path as Kestrel (the Functions host's web server) hands it to routing: percent-escapes
 * decoded except `%2F`, an escape that is not a valid UTF-8 sequence kept as written, `%00` refused (400
 * before any routing), then dot segments removed (RFC 3986 §5.2.4, after decoding, so `%2e%2e` counts).
 * Kestrel: Http1Connection.OnOriginFormTarget → PathDecoder.DecodePath → UrlDecoder.DecodeInPlace
 * ("The path contains null characters" → InvalidRequestTarget) → PathNormalizer.RemoveDotSegments.
 */

export type RequestTarget = { ok: true; path: string; query: string } | { ok: false; reason: string };

function hexAt(text: string, at: number): number | undefined {
  if (text[at] !== '%') return undefined;
  const hex = text.slice(at + 1, at + 3);
  return /^[0-9A-Fa-f]{2}$/.test(hex) ? parseInt(hex, 16) : undefined;
}

/** Length of the UTF-8 sequence a lead byte starts, and the smallest code point it may encode. */
function sequenceOf(lead: number): { length: number; min: number } | undefined {
  if (lead < 0x80) return { length: 1, min: 0 };
  if ((lead & 0xe0) === 0xc0) return { length: 2, min: 0x80 };
  if ((lead & 0xf0) === 0xe0) return { length: 3, min: 0x800 };
  if ((lead & 0xf8) === 0xf0) return { length: 4, min: 0x10000 };
  return undefined;
}

/** Decodes the escaped UTF-8 sequence at `at`, or undefined when it is not one (then it stays as written). */
function decodeSequence(text: string, at: number): { char: string; end: number } | undefined {
  const lead = hexAt(text, at);
  if (lead === undefined || lead === 0x2f) return undefined;
  const sequence = sequenceOf(lead);
  if (sequence === undefined) return undefined;
  let codePoint = sequence.length === 1 ? lead : lead & (0xff >> (sequence.length + 1));
  for (let k = 1; k < sequence.length; k++) {
    const next = hexAt(text, at + 3 * k);
    if (next === undefined || (next & 0xc0) !== 0x80) return undefined;
    codePoint = (codePoint << 6) | (next & 0x3f);
  }
  const surrogate = codePoint >= 0xd800 && codePoint <= 0xdfff;
  if (codePoint < sequence.min || codePoint > 0x10ffff || surrogate) return undefined;
  return { char: String.fromCodePoint(codePoint), end: at + 3 * sequence.length };
}

export function removeDotSegments(path: string): string {
  const output: string[] = [];
  const segments = path.split('/').slice(1);
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '..') output.pop();
    if (segment === '.' || segment === '..') {
      if (last) output.push('');
    } else {
      output.push(segment);
    }
  });
  return `/${output.join('/')}`;
}

/** The path and query Kestrel routes for a raw origin-form target, or why it answers 400. */
export function parseRequestTarget(rawTarget: string): RequestTarget {
  if (!rawTarget.startsWith('/')) return { ok: false, reason: 'the request target is not a path' };
  const queryAt = rawTarget.indexOf('?');
  const rawPath = queryAt < 0 ? rawTarget : rawTarget.slice(0, queryAt);
  const query = queryAt < 0 ? '' : rawTarget.slice(queryAt);
  let path = '';
  for (let at = 0; at < rawPath.length;) {
    if (hexAt(rawPath, at) === 0) return { ok: false, reason: 'the path contains a null character (%00)' };
    const decoded = rawPath[at] === '%' ? decodeSequence(rawPath, at) : undefined;
    if (decoded === undefined) {
      path += rawPath[at] ?? '';
      at += 1;
    } else {
      path += decoded.char;
      at = decoded.end;
    }
  }
  return { ok: true, path: removeDotSegments(path), query };
}
