import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ServiceBusClient, isServiceBusError } from '@azure/service-bus';
import { startEmulator } from '../src/index';
import { testConfig } from './helpers';

describe('emulator restart on the same port and data dir', () => {
  it('a connected SDK client resumes: its sender sends again, a re-accepted session gets every message in order', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'emulator-restart-')), 'data');
    let emulator = await startEmulator({ config: testConfig, dataDir });
    const port = emulator.port;
    // Retries cover the moment the client reconnects while the emulator is still down.
    const client = new ServiceBusClient(emulator.connectionString, {
      retryOptions: { maxRetries: 5, retryDelayInMs: 200, timeoutInMs: 5000 },
    });
    try {
      const sender = client.createSender('orders');
      await sender.sendMessages(['m0', 'm1', 'm2'].map((body) => ({ body, sessionId: 's' })));
      const before = await client.acceptSession('orders', 's');
      const [m0] = await before.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      assert.equal(m0?.body, 'm0');
      await before.completeMessage(m0);

      await emulator.close();
      emulator = await startEmulator({ port, config: testConfig, dataDir });

      // The sender is the same object as before the restart.
      await sender.sendMessages(['m3', 'm4'].map((body) => ({ body, sessionId: 's' })));
      // A session lock does not survive a lost connection (as on Azure): the old receiver says so.
      await assert.rejects(
        before.receiveMessages(1, { maxWaitTimeInMs: 1000 }),
        (error: unknown) => isServiceBusError(error) && error.code === 'SessionLockLost',
      );
      const after = await client.acceptSession('orders', 's');
      const bodies: unknown[] = [];
      while (bodies.length < 4) {
        const got = await after.receiveMessages(4 - bodies.length, { maxWaitTimeInMs: 2000 });
        if (got.length === 0) break;
        for (const message of got) {
          bodies.push(message.body);
          await after.completeMessage(message);
        }
      }
      assert.deepEqual(bodies, ['m1', 'm2', 'm3', 'm4']);
      assert.equal(emulator.stats().connections, 1);
    } finally {
      await client.close();
      await emulator.close();
    }
  });
});

describe('emulator close', () => {
  it('refuses a client that connects while it closes, and leaves nothing that keeps the process alive', async () => {
    const script = join(__dirname, 'support', 'closeWhileConnecting.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    // A connection left open keeps a 30 s heartbeat timer forever: a process that has not exited
    // long after its last step never will.
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      once(child, 'exit').then(([exitCode]) => exitCode as number | null),
      new Promise<string>((resolve) => (timer = setTimeout(resolve, 60_000, 'still running'))),
    ]);
    clearTimeout(timer);
    if (code === 'still running') child.kill();
    assert.equal(code, 0, `the process ${String(code)} after the emulator closed (printed: ${out.trim()})`);
    assert.deepEqual(JSON.parse(out), { lateOpened: false });
  });
});
