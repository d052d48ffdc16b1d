import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '@convoy/servicebus-emulator';
import { publishDirect } from '../../harness/publishDirect';
import { appRoot, orderEventsQueue } from '../../harness/stack';

/**
 * bench:processor's Node reference consumers must drain a burst the way ProcessorDrain reports it:
 * every message once, in order per session, one call at a time per session, on the emulator.
 */

const consumers = ['jsSdkDrain.ts', 'rheaDrain.ts'] as const;
const sessions = 6;
const events = 4;

interface BurstResult {
  drained: boolean;
  calls: number;
  orderViolations: number;
  overlaps: number;
  errors: number;
  sessionsAccepted: number;
  lastEndUnixMs: number;
}

describe('bench reference consumers drain a burst on the emulator', { timeout: 120_000 }, () => {
  let emulator: RunningEmulator;
  let dir: string;
  let hostJsonPath: string;
  before(async () => {
    emulator = await startEmulator({ port: 0 });
    dir = mkdtempSync(join(tmpdir(), 'convoy-reference-'));
    hostJsonPath = join(dir, 'host.json');
    writeFileSync(hostJsonPath, readFileSync(join(appRoot, 'host.json')));
  });
  after(async () => {
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const file of consumers) {
    it(`${file}: every message once, in order, no overlap`, async () => {
      const child = spawn(
        process.execPath,
        [
          ...['--import', 'tsx', join(appRoot, 'bench', 'lib', 'referenceConsumers', file)],
          ...['--connection', emulator.connectionString, '--queue', orderEventsQueue, '--host-json', hostJsonPath],
          ...['--sessions', String(sessions), '--events', String(events), '--bursts', '1', '--timeout', '60'],
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const next = async (): Promise<Record<string, unknown>> => {
        const line = await lines.next();
        if (line.done === true) assert.fail(`${file} ended early (exit ${String(await exited)}): ${stderr}`);
        return JSON.parse(line.value) as Record<string, unknown>;
      };
      assert.deepEqual(await next(), { ready: true });
      const ids = Array.from({ length: sessions }, (_, i) => `ref-${file}-${String(i + 1)}`);
      const publishedAt = performance.timeOrigin + performance.now();
      await publishDirect(emulator.connectionString, ids, events);
      const result = (await next()) as unknown as BurstResult;
      assert.equal(await exited, 0, stderr);
      assert.equal(result.drained, true);
      assert.equal(result.calls, sessions * events);
      assert.equal(result.orderViolations, 0);
      assert.equal(result.overlaps, 0);
      assert.equal(result.errors, 0, stderr);
      assert.ok(result.sessionsAccepted >= sessions, `accepted ${String(result.sessionsAccepted)} sessions`);
      // Wall-clock milliseconds of the last handler, as bench:processor reads them (clocks of two processes: 1 s slack).
      const endedAt = performance.timeOrigin + performance.now();
      assert.ok(
        result.lastEndUnixMs > publishedAt - 1000 && result.lastEndUnixMs < endedAt + 1000,
        `lastEndUnixMs ${String(result.lastEndUnixMs)} is not between the publish (${String(publishedAt)}) and now (${String(endedAt)})`,
      );
    });
  }
});
