import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { httpTraceCarrier, messageTraceCarrier, SpanKind, startHostSpan } from '../../src/host/trace';

const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('local host trace context (no tracer provider registered)', () => {
  it('reads a message the way the .NET Service Bus SDK does: traceparent first, else Diagnostic-Id', () => {
    const other = '00-11111111111111111111111111111111-2222222222222222-01';
    assert.deepEqual(messageTraceCarrier({ traceparent: parent, tracestate: 'a=1', 'Diagnostic-Id': other }), {
      traceparent: parent,
      tracestate: 'a=1',
    });
    assert.deepEqual(messageTraceCarrier({ 'Diagnostic-Id': other }), { traceparent: other });
    assert.equal(messageTraceCarrier({ custom: 7 }), undefined);
    assert.equal(messageTraceCarrier(undefined), undefined);
  });

  it('reads the traceparent / tracestate headers of an HTTP request', () => {
    const http = (headers: Record<string, string>) => ({
      http: {
        method: 'POST',
        url: 'http://x/api',
        headers,
        nullableHeaders: {},
        query: {},
        nullableQuery: {},
        params: {},
        nullableParams: {},
      },
    });
    assert.deepEqual(httpTraceCarrier(http({ traceparent: parent, tracestate: 'k=v' })), {
      traceparent: parent,
      tracestate: 'k=v',
    });
    assert.equal(httpTraceCarrier(http({})), undefined);
  });

  it("hands the function a child of the message's context: same trace id and flags, a new span id", () => {
    const span = startHostSpan('ServiceBusSessionProcessor.ProcessSessionMessage', SpanKind.CONSUMER, 'f', {
      traceparent: parent,
      tracestate: 'k=v',
    });
    span.end();
    const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(span.traceContext.traceParent);
    assert.ok(match, span.traceContext.traceParent);
    assert.equal(match[1], '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.notEqual(match[2], '00f067aa0ba902b7');
    assert.equal(match[3], '01');
    assert.equal(span.traceContext.traceState, 'k=v');
    assert.deepEqual(span.traceContext.attributes, { OperationName: 'f' });
  });

  it('starts a fresh unsampled trace without a valid parent', () => {
    const fresh = startHostSpan('x', SpanKind.CONSUMER, 'f', { traceparent: 'not-a-traceparent' }).traceContext;
    assert.match(fresh.traceParent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    assert.doesNotMatch(fresh.traceParent, /^00-0{32}-/);
  });
});
