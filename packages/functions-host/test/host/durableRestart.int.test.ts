import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const appRoot = join(__dirname, 'fixtures', 'durableRestartApp');
const childScript = join(__dirname, 'fixtures', 'durableHostChild.ts');

/** A local host with dataDir in a child process, so the test can SIGKILL it. */
async function startHost(dataDir: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, appRoot, dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const found = /^url (\S+)$/m.exec(stdout);
      if (found?.[1] !== undefined) resolve(found[1]);
    });
    child.once('exit', (code) => {
      reject(new Error(`host exited (${String(code)}) before listening:\n${output}`));
    });
  });
  return { child, url, output: () => output };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function lines(file: string): number {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '').length
    : 0;
}

describe('durable state in dataDir survives a killed host', () => {
  it('resumes an orchestration after SIGKILL mid-activity: it completes once, the entity counted each operation once', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'durable-restart-'));
    const dataDir = join(scratch, 'data');

    const first = await startHost(dataDir);
    const started = await fetch(`${first.url}/api/restartable`, { method: 'POST', body: JSON.stringify(scratch) });
    assert.equal(started.status, 202);
    const body: unknown = await started.json();
    assert.ok(typeof body === 'object' && body !== null && 'instanceId' in body && typeof body.instanceId === 'string');
    const instanceId = body.instanceId;
    // The entity call committed and the gate activity is running (it waits for <scratch>/open): kill the host.
    await until('the gate activity', () => (lines(join(scratch, 'gate-runs')) === 1 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 100));
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    writeFileSync(join(scratch, 'open'), '');

    const second = await startHost(dataDir);
    try {
      const status = await until('completion after the restart', async () => {
        const response = await fetch(`${second.url}/api/restartable/${instanceId}`);
        const value: unknown = await response.json();
        return typeof value === 'object' &&
          value !== null &&
          'runtimeStatus' in value &&
          value.runtimeStatus === 'Completed'
          ? value
          : undefined;
      });
      // add 1 before the kill, add 10 after: 11 means no operation was lost or applied twice.
      assert.deepEqual(status, {
        runtimeStatus: 'Completed',
        output: { gate: 'opened', total: 11, finish: 'finished' },
      });
      assert.deepEqual(await (await fetch(`${second.url}/api/counter`)).json(), { exists: true, state: 11 });
      // The killed activity ran again (at least once, as in Durable Functions); the last one ran exactly once.
      assert.equal(lines(join(scratch, 'gate-runs')), 2);
      assert.equal(lines(join(scratch, 'finish-runs')), 1);
      assert.match(second.output(), /1 instance\(s\), 1 entit\(ies\) loaded/);
    } finally {
      second.child.kill('SIGTERM');
      await once(second.child, 'exit');
    }

    // A graceful stop keeps the finished instance and the entity too; nothing runs again.
    const third = await startHost(dataDir);
    try {
      assert.deepEqual(await (await fetch(`${third.url}/api/restartable/${instanceId}`)).json(), {
        runtimeStatus: 'Completed',
        output: { gate: 'opened', total: 11, finish: 'finished' },
      });
      assert.deepEqual(await (await fetch(`${third.url}/api/counter`)).json(), { exists: true, state: 11 });
      assert.equal(lines(join(scratch, 'finish-runs')), 1);
    } finally {
      third.child.kill('SIGTERM');
      await once(third.child, 'exit');
    }
  });
});
