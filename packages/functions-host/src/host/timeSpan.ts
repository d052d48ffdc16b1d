/**
 * .NET TimeSpan text as host.json holds it (TimeSpan.Parse, invariant culture): `d` (days alone) or
 * `[d.]hh:mm[:ss[.fffffff]]`, hours 0–23, minutes and seconds 0–59, one to seven fraction digits.
 * One parser for the host and the benches. Where .NET reads an out-of-range hour as days ("24:00:00"
 * is 24 days) this refuses it instead, naming the form to write; a negative span is refused too,
 * since no host.json duration can be negative.
 */
export function parseTimeSpan(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 86_400_000;
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/.exec(trimmed);
  if (match === null) {
    const hint = trimmed.startsWith('-') ? 'a negative span is not a duration' : 'expected [d.]hh:mm[:ss[.fffffff]]';
    throw new Error(`"${text}" is not a TimeSpan (${hint}).`);
  }
  const [, days = '0', hours = '0', minutes = '0', seconds = '0', fraction] = match;
  inRange(text, 'hours', hours, 23);
  inRange(text, 'minutes', minutes, 59);
  inRange(text, 'seconds', seconds, 59);
  const fractionMs = fraction === undefined ? 0 : (Number(fraction) / 10 ** fraction.length) * 1000;
  const wholeSeconds = ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds);
  return wholeSeconds * 1000 + fractionMs;
}

function inRange(text: string, part: string, value: string, max: number): void {
  if (Number(value) > max)
    throw new Error(`"${text}" is not a TimeSpan: ${part} run 0–${max} (write days as d.hh:mm:ss).`);
}

/** Milliseconds as TimeSpan text parseTimeSpan (and .NET) read back: `[d.]hh:mm:ss[.fff]`. */
export function formatTimeSpan(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0)
    throw new Error(`A TimeSpan needs a finite, non-negative number of ms, not ${ms}.`);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const whole = Math.round(ms);
  const totalSeconds = Math.floor(whole / 1000);
  const days = Math.floor(totalSeconds / 86_400);
  const clock = `${pad(Math.floor(totalSeconds / 3600) % 24)}:${pad(Math.floor(totalSeconds / 60) % 60)}:${pad(totalSeconds % 60)}`;
  const fraction = whole % 1000;
  return `${days > 0 ? `${days}.` : ''}${clock}${fraction === 0 ? '' : `.${pad(fraction, 3)}`}`;
}
