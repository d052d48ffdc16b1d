import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import Long from 'long';
import { planRun, runPrefix } from '../harness/baskets';
import { finalStatuses, publishBaskets, waitForOrders, type OrderView } from '../harness/convoyClient';
import { appRoot, orderEventsQueue, startStack, type Stack } from '../harness/stack';
import { assertConvoyExact, consumer } from './support/convoyAssertions';

/**
 * Storage goes away for minutes in the middle of a run (the host's storage connections pass through
 * a fault proxy that is cut, Azurite itself keeps its data). The trigger holds each message through
 * the outage instead of burning its delivery count, so nothing reaches the dead-letter queue and
 * every basket completes in order once storage is back. STORAGE_OUTAGE_SECONDS shortens the outage
 * for local runs; CI uses the default 180 s.
 */

const outageSeconds = Number(process.env.STORAGE_OUTAGE_SECONDS ?? '180');
if (!Number.isFinite(outageSeconds) || outageSeconds < 0 || outageSeconds > 240) {
  throw new Error(
    `STORAGE_OUTAGE_SECONDS must be 0-240 (inside the 240 s hold), got ${String(process.env.STORAGE_OUTAGE_SECONDS)}`,
  );
}
const hostJson: unknown = JSON.parse(readFileSync(join(appRoot, 'host.json'), 'utf8'));
const isFinal = (order: OrderView | undefined): boolean => order !== undefined && finalStatuses.has(order.status);

describe('storage outage', { timeout: (outageSeconds + 180) * 1000 }, () => {
  let stack: Stack | undefined;
  before(async () => {
    stack = await startStack({ hostJson, storageProxy: true });
  });
  // A protocol error drops every session on its connection: the test in which the stack printed one fails.
  afterEach(() => {
    stack?.assertNoProtocolErrors();
  });
  after(async () => {
    stack?.storageProxy?.restore();
    await stack?.stop();
  });

  it(`every basket completes in order after storage is cut for ${String(outageSeconds)} s mid-run`, async (t) => {
    assert.ok(stack?.storageProxy !== undefined, 'stack not started with a storage proxy');
    const { host, storageProxy, emulator } = stack;
    const run = planRun(runPrefix('outage'), 50, 3);
    const ids = [...run.published.keys()];
    const handled = (): number =>
      host.events.filter(
        (e) => e.functionName === consumer && e.sessionId !== undefined && run.published.has(e.sessionId),
      ).length;

    await publishBaskets(host.url, run.request);
    // Cut once the run is under way (some events applied, most still queued).
    const startDeadline = Date.now() + 60_000;
    while (handled() < 20) {
      assert.ok(Date.now() < startDeadline, `only ${String(handled())} events handled within 60 s`);
      await sleep(20);
    }
    storageProxy.cut();
    const handledAtCut = handled();
    const cutAt = Date.now();
    await sleep(outageSeconds * 1000);
    storageProxy.restore();
    t.diagnostic(
      `storage cut after ${String(handledAtCut)} of ${String(50 * 5)} events, for ${String(Date.now() - cutAt)} ms`,
    );

    const orders = await waitForOrders(host.url, ids, isFinal, 120_000);
    assertConvoyExact(orders, run.published);

    const sb = new ServiceBusClient(emulator.connectionString);
    try {
      const deadLetters = await sb
        .createReceiver(orderEventsQueue, { subQueueType: 'deadLetter' })
        .peekMessages(100, { fromSequenceNumber: Long.ONE });
      assert.deepEqual(
        deadLetters.map((m) => m.messageId),
        [],
        'dead-lettered during the outage',
      );
    } finally {
      await sb.close();
    }
    const quarantine = (await (await fetch(`${host.url}/api/quarantine?limit=100`)).json()) as { count: number };
    assert.equal(quarantine.count, 0, 'quarantined during the outage');

    // Held, not abandoned: no call gave its message back, and calls spanned the outage.
    const mine = host.events.filter(
      (e) => e.functionName === consumer && e.sessionId !== undefined && run.published.has(e.sessionId),
    );
    const failed = mine.filter((e) => e.outcome === 'failed');
    assert.deepEqual(
      failed.map((e) => `${e.messageId ?? '?'}: ${e.error ?? ''}`),
      [],
      'calls abandoned their message',
    );
    const longest = Math.max(...mine.map((e) => e.durationMs));
    assert.ok(longest >= outageSeconds * 800, `the longest call took ${String(longest)} ms: the outage was not held`);
    t.diagnostic(`${String(mine.length)} calls, longest ${String(Math.round(longest))} ms, none abandoned`);
  });
});
