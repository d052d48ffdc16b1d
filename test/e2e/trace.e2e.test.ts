import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { faultHook } from '../harness/hooks';
import { appRoot } from '../harness/stack';
import { startConvoy, type Convoy } from '@convoy/dev-stack';

/**
 * One basket's trace, read back from the spans the app and the local host really exported
 * (TRACE_EXPORT=file:<path>, OTLP/JSON): the producer request, each message's create span, the
 * host's processing span per delivery (a redelivery included) with the handler's span under it,
 * the orchestration start, and the InventoryUpdated publish with its own delivery — one trace id,
 * each span under the one that caused it.
 */

const hostJson: unknown = JSON.parse(readFileSync(join(appRoot, 'host.json'), 'utf8'));
const incomingTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const incomingSpanId = '00f067aa0ba902b7';
const basketId = `trace-${String(Date.now())}`;

const attributeSchema = z.object({
  key: z.string(),
  value: z.object({ stringValue: z.string().optional(), intValue: z.union([z.string(), z.number()]).optional() }),
});
const spanSchema = z.object({
  traceId: z.string(),
  spanId: z.string(),
  parentSpanId: z.string().optional(),
  name: z.string(),
  attributes: z.array(attributeSchema).default([]),
});
const exportRequestSchema = z.object({
  resourceSpans: z.array(z.object({ scopeSpans: z.array(z.object({ spans: z.array(spanSchema) })) })),
});
type Span = z.infer<typeof spanSchema>;

function attribute(span: Span, key: string): string | undefined {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : String(value.intValue));
}

function readSpans(path: string): Span[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line !== '')
    .flatMap((line) => exportRequestSchema.parse(JSON.parse(line)).resourceSpans)
    .flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans));
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('one basket, one trace', { timeout: 150_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-trace-'));
  const spansFile = join(dir, 'spans.jsonl');
  let convoy: Convoy | undefined;
  before(async () => {
    convoy = await startConvoy({
      port: 0,
      hostJson,
      settings: { TRACE_EXPORT: `file:${spansFile}` },
      log: () => undefined,
    });
    // The handler of event 2 throws after it applied the event: abandoned, redelivered, recorded as a duplicate.
    convoy.host.registerHook('preInvocation', faultHook([{ messageId: `${basketId}:2`, when: 'after' }]));
  });
  after(async () => {
    await convoy?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('links producer, every delivery, the fulfillment and InventoryUpdated under the request that started them', async () => {
    assert.ok(convoy !== undefined);
    const response = await fetch(`${convoy.url}/api/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${incomingTraceId}-${incomingSpanId}-01` },
      body: JSON.stringify({
        baskets: [{ basketId, currency: 'EUR', items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 9.5 }] }],
      }),
    });
    assert.equal(response.status, 202);

    const orderSchema = z.looseObject({
      status: z.string(),
      applied: z.array(z.looseObject({ sequence: z.number(), traceId: z.string().optional() })),
    });
    const order = await until('the order to be Fulfilled', async () => {
      const reply = await fetch(`${convoy?.url ?? ''}/api/orders/${basketId}`);
      if (reply.status !== 200) return undefined;
      const parsed = orderSchema.parse(await reply.json());
      return parsed.status === 'Fulfilled' ? parsed : undefined;
    });
    assert.deepEqual(
      order.applied.map((entry) => [entry.sequence, entry.traceId]),
      [1, 2, 3, 4].map((sequence) => [sequence, incomingTraceId]),
    );

    // The last handler span is exported within the batch processor's 500 ms delay.
    const spans = await until('the handler span of InventoryUpdated', () => {
      const all = readSpans(spansFile);
      const last = all.find((s) => s.name === 'processOrderEvent' && attribute(s, 'convoy.event.sequence') === '4');
      return last === undefined ? undefined : all;
    });
    assertTrace(spans.filter((span) => span.traceId === incomingTraceId));
  });
});

function assertTrace(trace: Span[]): void {
  const byId = new Map(trace.map((span) => [span.spanId, span]));
  const parentOf = (span: Span): Span | undefined => byId.get(span.parentSpanId ?? '');
  const one = (name: string, where: (span: Span) => boolean = () => true): Span => {
    const found = trace.filter((span) => span.name === name && where(span));
    assert.equal(found.length, 1, `expected one ${name} span, found ${String(found.length)}`);
    return found[0] as Span;
  };

  const request = one('POST /api/sessions');
  assert.equal(request.parentSpanId, incomingSpanId, 'the host continues the request traceparent');
  const producer = one('publishSessions');
  assert.equal(parentOf(producer), request);
  const send = one('send order-events', (span) => parentOf(span) === producer);

  const creates = trace.filter((span) => span.name === 'create order-events');
  const createOf = (sequence: number): Span =>
    one('create order-events', (span) => attribute(span, 'messaging.message.id') === `${basketId}:${String(sequence)}`);
  for (const sequence of [1, 2, 3]) assert.equal(parentOf(createOf(sequence)), send);
  assert.equal(creates.length, 4, 'three events from the producer and InventoryUpdated');

  /** Every delivery of a message: the host's processing span under the message's create, the handler's under it. */
  const deliveriesOf = (sequence: number): string[] => {
    const create = createOf(sequence);
    const hostSpans = trace.filter(
      (span) => span.name === 'ServiceBusSessionProcessor.ProcessSessionMessage' && parentOf(span) === create,
    );
    return hostSpans.map((hostSpan) => {
      const handler = one('processOrderEvent', (span) => parentOf(span) === hostSpan);
      assert.equal(attribute(handler, 'convoy.event.sequence'), String(sequence));
      return attribute(handler, 'messaging.servicebus.message.delivery_count') ?? '?';
    });
  };
  // A busy machine may add deliveries (a lost lock); each one must still be in the trace, under its message.
  for (const sequence of [1, 3, 4])
    assert.ok(deliveriesOf(sequence).includes('1'), `first delivery of ${String(sequence)}`);
  const second = deliveriesOf(2);
  assert.ok(
    second.includes('1') && second.includes('2'),
    `the redelivery of event 2 is in the trace: ${second.join()}`,
  );

  const start = one('start fulfillOrder');
  const starter = parentOf(start);
  assert.equal(starter?.name, 'processOrderEvent');
  assert.equal(
    attribute(starter, 'convoy.event.sequence'),
    '3',
    'the orchestration is started by the PaymentMade call',
  );
  const publish = one('publishInventoryUpdated');
  assert.equal(parentOf(publish), start, 'the activity continues the trace carried in the orchestration input');
  const publishSend = one('send order-events', (span) => parentOf(span) === publish);
  assert.equal(parentOf(createOf(4)), publishSend);
}
