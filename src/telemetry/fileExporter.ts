import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * Spans as OTLP/JSON export requests (the collector's wire format, by the OTLP library's own
 * serializer), one request per line appended to a file: what a collector's file receiver, a test or
 * `jq` can read. For local runs; Azure uses the Azure Monitor exporter.
 */
export class OtlpJsonFileExporter implements SpanExporter {
  private readonly decoder = new TextDecoder();

  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    try {
      const request = JsonTraceSerializer.serializeRequest(spans);
      if (request !== undefined) appendFileSync(this.path, `${this.decoder.decode(request)}\n`);
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({
        code: ExportResultCode.FAILED,
        error: error instanceof Error ? error : new Error(String(error)),
      });
    }
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
