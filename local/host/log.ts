import type { LogCategory, LogLevel } from './coreApi';
import type { InvocationEvent } from './types';

export type LogSink = (line: string) => void;

export function stamp(now: Date = new Date()): string {
  return now.toISOString().slice(11, 23);
}

/** One line per invocation: function, session, sequence, delivery count, duration, outcome. */
export function invocationLine(event: InvocationEvent, detail?: string): string {
  const parts = [event.functionName];
  if (detail !== undefined) parts.push(detail);
  if (event.sessionId !== undefined) parts.push(`session=${event.sessionId}`);
  if (event.sequenceNumber !== undefined) parts.push(`seq=${event.sequenceNumber}`);
  if (event.deliveryCount !== undefined) parts.push(`delivery=${event.deliveryCount}`);
  parts.push(`${event.durationMs.toFixed(1)} ms`);
  parts.push(event.outcome === 'succeeded' ? 'ok' : `FAILED: ${event.error ?? 'error'}`);
  return parts.join('  ');
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
