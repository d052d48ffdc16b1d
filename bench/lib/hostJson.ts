import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTimeSpan } from '@convoy/functions-host';
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

export function hostJsonWith(settings: SessionSettings): unknown {
  const hostJson = readRepoHostJson();
  const serviceBus: Record<string, unknown> = {
    ...hostJson.extensions.serviceBus,
    maxConcurrentSessions: settings.maxConcurrentSessions,
  };
  if (settings.sessionIdleTimeoutMs === undefined) delete serviceBus.sessionIdleTimeout;
  else serviceBus.sessionIdleTimeout = formatTimeSpan(settings.sessionIdleTimeoutMs);
  return { ...hostJson, extensions: { ...hostJson.extensions, serviceBus } };
}

export function describeIdle(ms: number | undefined): string {
  return ms === undefined ? 'unset (60 s)' : `${String(ms)} ms`;
}
