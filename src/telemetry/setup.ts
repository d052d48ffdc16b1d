import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { errorText } from '../errors';
import type * as FunctionsInstrumentation from '@azure/functions-opentelemetry-instrumentation';
import type * as AzureMonitor from '@azure/monitor-opentelemetry';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import { OtlpJsonFileExporter } from './fileExporter';
import { readTelemetrySettings, type TelemetrySettings, type TraceExport } from './settings';

/**
 * Registers the process-wide tracer provider once (the local host may load the app more than once
 * in one process; the first registration stays). Azure: the Azure Monitor distro, loaded only
 * then (it is large), plus the Functions instrumentation that tells the host the worker sends its
 * own logs. Elsewhere: a small Node provider with the exporter TRACE_EXPORT names.
 */

const registered = Symbol.for('convoy.telemetry');

interface Registration {
  shutdown(): Promise<void>;
}

function registration(): Registration | undefined {
  return (globalThis as Record<symbol, Registration | undefined>)[registered];
}

export function setupTelemetry(settings: TelemetrySettings = readTelemetrySettings()): void {
  if (registration() !== undefined) return;
  const made =
    settings.appInsightsConnectionString === undefined
      ? nodeProvider(settings.export)
      : azureMonitor(settings.appInsightsConnectionString);
  (globalThis as Record<symbol, Registration | undefined>)[registered] = made;
}

/** Flushes what is buffered (called when the host stops the worker). */
export async function shutdownTelemetry(): Promise<void> {
  const made = registration();
  (globalThis as Record<symbol, Registration | undefined>)[registered] = undefined;
  try {
    await made?.shutdown();
  } catch (error) {
    // Stopping goes on; the spans that could not be flushed are named here rather than lost unseen.
    console.warn(`Flushing traces at shutdown failed: ${errorText(error)}`);
  }
}

/** A module loaded on first use only: the exporters not asked for are never loaded. */
function load(name: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(name);
}

function processorFor(traceExport: TraceExport): SpanProcessor | undefined {
  switch (traceExport.kind) {
    case 'none':
      return undefined;
    case 'console':
      return new SimpleSpanProcessor(new ConsoleSpanExporter());
    case 'file':
      return new BatchSpanProcessor(new OtlpJsonFileExporter(traceExport.path), { scheduledDelayMillis: 500 });
    case 'otlp': {
      // Loaded only when asked for: the HTTP exporter is the largest piece of the local setup.
      const otlp = load('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttp;
      const exporter = new otlp.OTLPTraceExporter(traceExport.url === undefined ? {} : { url: traceExport.url });
      return new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 });
    }
    default: {
      const unreachable: never = traceExport;
      return unreachable;
    }
  }
}

/**
 * Nothing to export: only the W3C propagator. Spans are then the API's non-recording ones, which
 * carry their parent's context and nothing else, so the trace to continue is always the invocation's:
 * the code that stamps it (processOrderEvent's records, the fulfillment start, the publisher) takes it
 * from its invocation (tracing.ts continuedContext). No context manager: on Node 20 and 22 keeping the
 * active context across awaits (AsyncLocalStorage) runs async hooks on every promise of the process,
 * ≈ 0.3–0.4 ms of host CPU per event in bench:convoy, for spans that go nowhere (docs/tuning.md).
 */
function propagationOnly(): Registration {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return {
    shutdown() {
      propagation.disable();
      return Promise.resolve();
    },
  };
}

function nodeProvider(traceExport: TraceExport): Registration {
  if (traceExport.kind === 'none') return propagationOnly();
  const processor = processorFor(traceExport);
  const provider = new NodeTracerProvider({ spanProcessors: processor === undefined ? [] : [processor] });
  // AsyncLocalStorage context manager and the W3C trace-context propagator.
  provider.register();
  return {
    async shutdown() {
      await provider.shutdown();
      trace.disable();
    },
  };
}

function azureMonitor(connectionString: string): Registration {
  const monitor = load('@azure/monitor-opentelemetry') as typeof AzureMonitor;
  // The distro's default rate limit (5 traces/s per process) would keep parts of a basket's trace and
  // drop others; the percentage sampler decides by trace id, so a trace is kept or dropped whole.
  monitor.useAzureMonitor({ azureMonitorExporterOptions: { connectionString }, samplingRatio: 1, tracesPerSecond: 0 });
  // After the distro: the instrumentation takes the logger provider the distro just registered.
  const functions = load('@azure/functions-opentelemetry-instrumentation') as typeof FunctionsInstrumentation;
  const instrumentation = new functions.AzureFunctionsInstrumentation();
  instrumentation.enable();
  return {
    async shutdown() {
      instrumentation.disable();
      await monitor.shutdownAzureMonitor();
    },
  };
}
