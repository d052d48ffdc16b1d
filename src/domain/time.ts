/* eslint-disable no-restricted-globals -- parse and format only: nothing here reads the clock. */

/**
 * Timestamps as the domain handles them: ISO 8601 text in records, milliseconds for arithmetic.
 * The clock itself never enters the domain; "now" always comes in as an argument.
 */

/** Milliseconds since the epoch of an ISO 8601 timestamp; NaN when it is not one. */
export function isoToMs(iso: string): number {
  return Date.parse(iso);
}

/** ISO 8601 in UTC with milliseconds: fixed width for years 1000–9999, so such strings sort as times do. */
export function msToIso(ms: number): string {
  return new Date(ms).toISOString();
}
