import type { LogCategory, LogLevel } from './coreApi';
import type { InvocationEvent } from './types';

export type LogSink = (line: string) => void;

export function stamp(now: Date = new Date()): string {
  return now.toISOString().slice(11, 23);
}

/** Levels from the chattiest up, as host.json's logLevel names them. */
export const logLevels: readonly LogLevel[] = ['trace', 'debug', 'information', 'warning', 'error', 'critical', 'none'];

export function parseLogLevel(text: string, flag: string): LogLevel {
  const level = logLevels.find((l) => l === text.toLowerCase());
  if (level === undefined) throw new Error(`${flag} must be one of ${logLevels.join(', ')}; got "${text}".`);
  return level;
}

/** Whether a line at `level` shows when the minimum is `minimum` (`none` shows nothing). */
export function shows(level: LogLevel, minimum: LogLevel): boolean {
  if (level === 'none' || minimum === 'none') return false;
  return logLevels.indexOf(level) >= logLevels.indexOf(minimum);
}

/** What the app logged at information level or below during one call: folded into the call's line. */
export function isCallDetail(level: LogLevel, category: LogCategory): boolean {
  return category === 'user' && (level === 'information' || level === 'debug' || level === 'trace');
}

/**
 * One line per invocation. When the function said what it did (its information-level log of the
 * call), that text is the line, after the duration and outcome; otherwise the host's facts: session,
 * the broker's sequence number (`serviceSequence`, not the event's `sequence`), delivery count.
 */
export function invocationLine(event: InvocationEvent, detail?: string, said: readonly string[] = []): string {
  const parts = [event.functionName];
  if (detail !== undefined) parts.push(detail);
  if (said.length === 0) {
    if (event.sessionId !== undefined) parts.push(`session=${event.sessionId}`);
    if (event.sequenceNumber !== undefined) parts.push(`serviceSequence=${event.sequenceNumber}`);
    if (event.deliveryCount !== undefined) parts.push(`deliveryCount=${event.deliveryCount}`);
  }
  parts.push(`${event.durationMs.toFixed(1)} ms`);
  parts.push(event.outcome === 'succeeded' ? 'ok' : `FAILED: ${event.error ?? 'error'}`);
  for (const message of said) parts.push(withoutName(message, event.functionName));
  return parts.join('  ');
}

/** The app's own "<function>" or "<function>:" at the start of its line repeats the line's first word. */
function withoutName(message: string, functionName: string): string {
  if (!message.startsWith(functionName)) return message;
  const rest = message.slice(functionName.length);
  return rest.startsWith(': ') ? rest.slice(2) : rest.startsWith(' ') ? rest.slice(1) : message;
}

const shownSystemLevels = new Set<LogLevel>(['warning', 'error', 'critical']);

/** context.log output of the app, and the library's own warnings (its debug chatter is dropped). */
export function appLogLine(
  level: LogLevel,
  category: LogCategory,
  message: string,
  functionName?: string,
): string | undefined {
  if (category !== 'user' && !shownSystemLevels.has(level)) return undefined;
  if (level === 'none') return undefined;
  const label = level === 'information' || level === 'debug' || level === 'trace' ? '' : `${level.toUpperCase()} `;
  const source = functionName ?? (category === 'user' ? 'app' : 'worker');
  return `  [${source}] ${label}${message}`;
}

/**
 * The host's information-level chatter: sessions accepted and idle-closed, orchestrations completed
 * (hidden below information, e.g. `npm start -- --quiet`; failures and lock losses still show).
 */
export function isHostChatter(line: string): boolean {
  return (
    /^session \S+ (?:accepted by |idle-closed after )/.test(line) ||
    /^orchestration \S+ \(\S+\) (?:Completed|continued as new)$/.test(line)
  );
}
