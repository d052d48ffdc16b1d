import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { toServiceBusMessage, traceProperties } from '../../../src/adapters/serviceBusPublisher';
import { readTelemetrySettings } from '../../../src/telemetry/settings';
import { setupTelemetry, shutdownTelemetry } from '../../../src/telemetry/setup';
import { activeTraceId, contextOfInvocation, currentCarrier, inSpan, traced } from '../../../src/telemetry/tracing';

const hostParent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('telemetry settings', () => {
  it('reads TRACE_EXPORT and names the setting when its value is wrong', () => {
    assert.deepEqual(readTelemetrySettings({}).export, { kind: 'none' });
    assert.deepEqual(readTelemetrySettings({ TRACE_EXPORT: 'console' }).export, { kind: 'console' });
    assert.deepEqual(readTelemetrySettings({ TRACE_EXPORT: 'file:/tmp/s.jsonl' }).export, {
      kind: 'file',
      path: '/tmp/s.jsonl',
    });
    assert.deepEqual(readTelemetrySettings({ TRACE_EXPORT: 'otlp:http://c:4318/v1/traces' }).export, {
      kind: 'otlp',
      url: 'http://c:4318/v1/traces',
    });
    assert.throws(() => readTelemetrySettings({ TRACE_EXPORT: 'jaeger' }), /Setting TRACE_EXPORT is invalid: "jaeger"/);
    assert.equal(
      readTelemetrySettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=x' })
        .appInsightsConnectionString,
      'InstrumentationKey=x',
    );
  });
});

describe('trace context in the app', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  before(() => {
    provider.register();
  });
  after(async () => {
    await provider.shutdown();
    trace.disable();
  });

  it("runs a handler in a span under the host's span for the call, and records a thrown error", async () => {
    exporter.reset();
    const context = {
      invocationId: 'i-1',
      functionName: 'processOrderEvent',
      traceContext: { traceParent: hostParent },
    };
    const seen = await traced(async () => Promise.resolve(activeTraceId()))(undefined, context);
    assert.equal(seen, '4bf92f3577b34da6a3ce929d0e0e4736');
    await assert.rejects(traced(async () => Promise.reject(new Error('boom')))(undefined, context), /boom/);
    assert.deepEqual(
      exporter.getFinishedSpans().map((span) => [span.name, span.parentSpanContext?.spanId, span.status.message]),
      [
        ['processOrderEvent', '00f067aa0ba902b7', undefined],
        ['processOrderEvent', '00f067aa0ba902b7', 'boom'],
      ],
    );
  });

  it('starts a new trace when the host gave none (empty traceParent, as a host without tracing sends)', async () => {
    const carrier = await inSpan('x', { parent: contextOfInvocation({ traceParent: '' }) }, async () =>
      Promise.resolve(currentCarrier()),
    );
    assert.match(carrier?.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.doesNotMatch(carrier?.traceparent ?? '', /4bf92f35/);
  });

  it('stamps a message with Diagnostic-Id and traceparent (and tracestate when there is one)', () => {
    const message = toServiceBusMessage(
      {
        basketId: 'b-1',
        sequence: 1,
        eventId: 'b-1:1',
        type: 'BasketCheckedOut',
        occurredAt: '2026-01-01T00:00:00Z',
        data: { currency: 'EUR' },
      },
      {},
      { traceparent: hostParent, tracestate: 'k=v' },
    );
    const properties = message.applicationProperties ?? {};
    assert.equal(properties['Diagnostic-Id'], hostParent);
    assert.equal(properties.traceparent, hostParent);
    assert.equal(properties.tracestate, 'k=v');
    assert.deepEqual(traceProperties(undefined), {});
  });
});

describe('trace context with nothing exported (no context manager)', () => {
  before(() => {
    context.disable();
    setupTelemetry({ export: { kind: 'none' }, appInsightsConnectionString: undefined });
  });
  after(async () => {
    await shutdownTelemetry();
  });

  it("records the invocation's trace id though no span is active across the handler's awaits", async () => {
    const invocation = {
      invocationId: 'i-2',
      functionName: 'processOrderEvent',
      traceContext: { traceParent: hostParent },
    };
    const seen = await traced(async () => {
      await Promise.resolve();
      return [activeTraceId(), activeTraceId(contextOfInvocation(invocation.traceContext))];
    })(undefined, invocation);
    assert.deepEqual(seen, [undefined, '4bf92f3577b34da6a3ce929d0e0e4736']);
  });
});
