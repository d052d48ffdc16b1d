import type { OrderRecord } from './orderRecord';

/**
 * Keeps an order record small enough for one Table entity (1 MiB, strings stored as UTF-16) with
 * room to spare, so saving a record never fails for its size: that failure would look transient
 * and spin the message to its max delivery count.
 *
 * Size is counted as the store writes it: JSON with every non-ASCII UTF-16 unit escaped as \uXXXX
 * (6 characters), i.e. ASCII characters at 2 bytes each.
 *
 * Worst case with every field at its schema maximum (basketId 100, sku 64, occurredAt 40, 20-digit
 * numbers), measured in test/unit/domain/recordBudget.unit.test.ts: one applied entry ≤ 329
 * characters, one order line ≤ 113. So 500 events ≤ 500 × (329 + 113) = 221,000 characters
 * = 442,000 bytes, 42% of the 1 MiB entity. The operator logs (rejected, duplicates) are trimmed, oldest
 * first, into what is left of `maxRecordChars`; whatever would still not fit (a huge parked event)
 * is refused and blocks the order with the reason.
 */

/** Highest sequence a basket may use: events 1..500. The producer sends at most 100 items + 3. */
export const maxEventsPerBasket = 500;

/** 250,000 ASCII characters = 500,000 bytes: under half of the 1 MiB (1,048,576 bytes) entity. */
export const maxRecordChars = 250_000;

/** Reasons quote what arrived (schema messages, types); cut so one rejection stays small. */
export const maxReasonChars = 500;
/** Service Bus message ids are at most 128 characters; the same cut for what an invalid body claims. */
export const maxIdChars = 128;

const nonAscii = /[\u0080-\uffff]/g;

/** Characters of `value` as stored: JSON.stringify, plus 5 for each unit escaped as \uXXXX. */
export function storedChars(value: unknown): number {
  const json = JSON.stringify(value);
  // A native regex scan, not a per-character loop: this runs on every record of every message.
  return json.length + 5 * (json.match(nonAscii)?.length ?? 0);
}

/** `text` cut to at most `max` UTF-16 units, ending in a marker that says how many were cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let kept = max;
  for (;;) {
    const marker = `…[${String(text.length - kept)} more]`;
    if (marker.length > max) return text.slice(0, max);
    if (kept + marker.length <= max) return `${text.slice(0, kept)}${marker}`;
    kept = max - marker.length;
  }
}

/**
 * The record with its oldest duplicate sightings, then its oldest rejections, dropped until it fits
 * `maxChars`; `fits` is false when even empty logs leave it too large (its state alone is too big).
 */
export function trimLogsToFit(record: OrderRecord, maxChars: number): { record: OrderRecord; fits: boolean } {
  let current = record;
  let size = storedChars(current);
  while (size > maxChars) {
    const [oldestDuplicate, ...duplicates] = current.duplicates;
    const [oldestRejected, ...rejected] = current.rejected;
    if (oldestDuplicate !== undefined) {
      current = { ...current, duplicates };
      size -= storedChars(oldestDuplicate) + 1;
    } else if (oldestRejected !== undefined) {
      current = { ...current, rejected };
      size -= storedChars(oldestRejected) + 1;
    } else {
      break;
    }
    // The running count can be off by the one comma of the last entry: confirm before stopping.
    if (size <= maxChars) size = storedChars(current);
  }
  return { record: current, fits: size <= maxChars };
}
