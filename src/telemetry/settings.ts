import { z } from 'zod';
import { ConfigError } from '../config';

/**
 * Where spans go. Read once when the worker loads the app (before any other module, so the tracer
 * exists before the first call), separately from getConfig(): tracing needs no connection setting.
 *  - `APPLICATIONINSIGHTS_CONNECTION_STRING` set: Azure Monitor (traces and logs, as in Azure).
 *  - `TRACE_EXPORT=console`: every span printed as it ends.
 *  - `TRACE_EXPORT=file:<path>`: OTLP/JSON, one export request per line, appended to <path>.
 *  - `TRACE_EXPORT=otlp` or `otlp:<url>`: OTLP/HTTP to a collector (default the OTEL_EXPORTER_OTLP_* variables).
 * Neither: trace context is still continued and stamped on messages; spans go nowhere.
 */

export const traceSettingNames = {
  traceExport: 'TRACE_EXPORT',
  appInsights: 'APPLICATIONINSIGHTS_CONNECTION_STRING',
} as const;

export type TraceExport =
  { kind: 'none' } | { kind: 'console' } | { kind: 'file'; path: string } | { kind: 'otlp'; url: string | undefined };

export interface TelemetrySettings {
  export: TraceExport;
  appInsightsConnectionString: string | undefined;
}

const traceExportSchema = z.union([
  z.literal('console').transform((): TraceExport => ({ kind: 'console' })),
  z
    .string()
    .regex(/^file:.+/)
    .transform((value): TraceExport => ({ kind: 'file', path: value.slice('file:'.length) })),
  z.literal('otlp').transform((): TraceExport => ({ kind: 'otlp', url: undefined })),
  z
    .string()
    .regex(/^otlp:https?:\/\/.+/)
    .transform((value): TraceExport => ({ kind: 'otlp', url: value.slice('otlp:'.length) })),
]);

export function readTelemetrySettings(env: Record<string, string | undefined> = process.env): TelemetrySettings {
  const raw = env[traceSettingNames.traceExport]?.trim();
  let traceExport: TraceExport = { kind: 'none' };
  if (raw !== undefined && raw !== '') {
    const parsed = traceExportSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ConfigError(
        `Setting ${traceSettingNames.traceExport} is invalid: "${raw}" is none of console, file:<path>, otlp, otlp:<http(s) url>.`,
      );
    }
    traceExport = parsed.data;
  }
  const appInsights = env[traceSettingNames.appInsights]?.trim();
  return { export: traceExport, appInsightsConnectionString: appInsights === '' ? undefined : appInsights };
}
