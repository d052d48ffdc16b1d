import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startDurableBackend } from '../../src/durable/backend';
import { startHarness, statusOf, until, type Harness } from './fixtures/harness';
import { ManualClock } from './fixtures/manualClock';
import { probe } from './fixtures/probe';

/**
 * A copy of dataDir taken while the first backend runs is what a kill at that moment leaves on disk:
 * the second backend starts from the copy. Any non-GET call on the API returns only once every change
 * is on disk, so the tests sync with a raise to an unknown instance (404) before copying.
 */
async function synced(h: Harness): Promise<void> {
  const reply = await h.api('instances/no-such-instance/raiseEvent/sync', { method: 'POST', body: '1' });
  assert.equal(reply.status, 404);
}

function crashImage(dataDir: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'durable-image-'));
  cpSync(dataDir, copy, { recursive: true });
  return copy;
}

describe('the durable backend with dataDir', () => {
  it('resumes a retry waiting on its timer: attempts go on, sequence numbers match the library', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'durable-data-'));
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const first = await startHarness({ clock, dataDir });
    const id = await first.client({ action: 'start', name: 'retrying', input: 'persist-retry' });
    assert.equal(typeof id, 'string');
    // Attempt 1 failed and its retry timer is armed (the manual clock holds it).
    await until(
      () => Promise.resolve(probe.flakyAttempts.get('persist-retry')),
      (n) => n === 1,
    );
    await until(
      () => statusOf(first, String(id)),
      () => first.backend.stats().pendingWork === 1,
    );
    await synced(first);
    const image = crashImage(dataDir);
    await first.backend.close();

    const second = await startHarness({ clock, dataDir: image });
    try {
      assert.ok(
        second.logs.some((l) => /1 instance\(s\), 0 entit\(ies\) loaded, 1 pending/.test(l)),
        second.logs.join('\n'),
      );
      clock.advance(5);
      await until(
        () => Promise.resolve(probe.flakyAttempts.get('persist-retry')),
        (n) => n === 2,
      );
      await until(
        () => Promise.resolve(second.backend.stats().pendingWork),
        (n) => n === 1,
      );
      // The retry timer is armed only once attempt 2's failure is processed, which can come after the
      // wait above (it also counts the running activity): advance until the instance completes.
      await until(
        async () => {
          clock.advance(60_000);
          return statusOf(second, String(id));
        },
        (status) => status.runtimeStatus === 'Completed',
      );
      assert.deepEqual(await statusOf(second, String(id)), {
        runtimeStatus: 'Completed',
        output: 3,
        customStatus: null,
        input: 'persist-retry',
      });
      assert.equal(probe.flakyAttempts.get('persist-retry'), 3);
    } finally {
      await second.backend.close();
    }
  });

  it('keeps a waiting orchestration and its timer; an event raised after the restart completes it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'durable-data-'));
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const first = await startHarness({ clock, dataDir });
    const approval = String(await first.client({ action: 'start', name: 'approval' }));
    const nap = String(await first.client({ action: 'start', name: 'nap' }));
    await until(
      () => Promise.resolve(first.backend.stats().pendingWork),
      (n) => n === 2,
    );
    await synced(first);
    const image = crashImage(dataDir);
    await first.backend.close();

    const second = await startHarness({ clock, dataDir: image });
    try {
      const raised = await second.api(`instances/${approval}/raiseEvent/approve`, {
        method: 'POST',
        body: JSON.stringify('Ada'),
      });
      assert.equal(raised.status, 202);
      clock.advance(30_000);
      await second.backend.whenIdle();
      assert.deepEqual((await statusOf(second, approval)).output, { approvedBy: 'Ada' });
      assert.deepEqual((await statusOf(second, nap)).output, 'rested');
    } finally {
      await second.backend.close();
    }
  });

  it('refuses a journal record it does not know, naming the record and the file', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'durable-data-'));
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'durable.journal'), `${JSON.stringify({ set: { 'x/1': { a: 1 } }, del: [] })}\n`);
    await assert.rejects(
      startDurableBackend({ taskHubName: 'TestHub', functions: [], invoke: () => Promise.resolve(undefined), dataDir }),
      /durable\.journal: record 'x\/1' is neither a saved orchestration instance nor an entity/,
    );
    assert.deepEqual(readdirSync(dataDir), ['durable.journal']);
  });
});
