import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { appRoot } from '../../test/harness/stack';

/** The repository's host.json with the swept Service Bus settings replaced. */

const hostJsonSchema = z.looseObject({
  extensions: z.looseObject({ serviceBus: z.looseObject({}) }),
});

export interface SessionSettings {
  maxConcurrentSessions: number;
  /** Milliseconds; undefined leaves sessionIdleTimeout unset (the extension then waits tryTimeout, 60 s). */
  sessionIdleTimeoutMs: number | undefined;
}

export function readRepoHostJson(): z.infer<typeof hostJsonSchema> {
  return hostJsonSchema.parse(JSON.parse(readFileSync(join(appRoot, 'host.json'), 'utf8')));
}

/** Milliseconds → .NET TimeSpan text (hh:mm:ss.fff). */
export function toTimeSpan(ms: number): string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const totalSeconds = Math.floor(ms / 1000);
  const fraction = Math.round(ms % 1000);
  const base = `${pad(Math.floor(totalSeconds / 3600))}:${pad(Math.floor(totalSeconds / 60) % 60)}:${pad(totalSeconds % 60)}`;
  return fraction === 0 ? base : `${base}.${pad(fraction, 3)}`;
}

export function hostJsonWith(settings: SessionSettings): unknown {
  const hostJson = readRepoHostJson();
  const serviceBus: Record<string, unknown> = {
    ...hostJson.extensions.serviceBus,
    maxConcurrentSessions: settings.maxConcurrentSessions,
  };
  if (settings.sessionIdleTimeoutMs === undefined) delete serviceBus.sessionIdleTimeout;
  else serviceBus.sessionIdleTimeout = toTimeSpan(settings.sessionIdleTimeoutMs);
  return { ...hostJson, extensions: { ...hostJson.extensions, serviceBus } };
}

export function describeIdle(ms: number | undefined): string {
  return ms === undefined ? 'unset (60 s)' : `${String(ms)} ms`;
}
