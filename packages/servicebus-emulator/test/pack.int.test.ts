import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ServiceBusClient } from '@azure/service-bus';

/**
 * The emulator as someone outside this repository gets it: `npm pack` of this package, the tarball
 * installed into an empty directory (so only what `files` and `dependencies` name is there), the bin
 * started with `npx servicebus-emulator`, and the Service Bus SDK sending and receiving a session
 * message through it.
 */

const packageDir = join(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

async function runNpm(args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(npm, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}:\n${failed.stderr ?? ''}${failed.stdout ?? ''}`);
  }
}

/** The lines the emulator prints before it serves: the connection string, then "... ready on ...". */
async function readyLines(child: ChildProcess, stderr: () => string): Promise<[string, string]> {
  if (child.stdout === null) throw new Error('the emulator was started without a stdout pipe');
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`npx servicebus-emulator exited (${String(code)}) before it was ready:\n${stderr()}`);
  });
  const next = async (): Promise<string> => {
    const line = await Promise.race([lines.next(), exited]);
    if (line.done === true) throw new Error(`the emulator's output ended before it was ready:\n${stderr()}`);
    return line.value;
  };
  return [await next(), await next()];
}

/** Ends what is left of a process group; a group already gone (ESRCH) is what a passing test leaves. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

describe('the packed emulator, installed into an empty directory', { timeout: 300_000 }, () => {
  let work = '';
  let emulator: ChildProcess | undefined;
  let client: ServiceBusClient | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'servicebus-emulator-pack-'));
  });
  after(async () => {
    await client?.close();
    if (emulator?.pid !== undefined) killGroup(emulator.pid);
    rmSync(work, { recursive: true, force: true });
  });

  it('runs as `npx servicebus-emulator` and carries a session message for @azure/service-bus', async () => {
    const packed = JSON.parse(await runNpm(['pack', '--json', '--pack-destination', work], packageDir)) as [
      { filename: string; files: { path: string }[] },
    ];
    const shipped = packed[0].files.map((file) => file.path);
    for (const path of ['dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'dist/config.default.json', 'README.md']) {
      assert.ok(shipped.includes(path), `the tarball lacks ${path}; it has ${shipped.join(', ')}`);
    }
    const strays = shipped.filter((path) => path.startsWith('src/') || path.startsWith('test/'));
    assert.deepEqual(strays, [], 'sources and tests stay out of the tarball');

    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packed-emulator-user', private: true }));
    await runNpm(['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed[0].filename)], app);

    // Its own process group, so that a failed test can still kill the emulator under npx.
    emulator = spawn(npx, ['--no-install', 'servicebus-emulator', '--port', '0'], {
      cwd: app,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    emulator.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [connectionString, ready] = await readyLines(emulator, () => stderr);
    assert.match(connectionString, /^Endpoint=sb:\/\/localhost:\d+;.*UseDevelopmentEmulator=true;$/);
    assert.match(ready, /Service Bus emulator ready on 127\.0\.0\.1:\d+ \(namespace sbemulatorns: 1 queue\(s\)/);

    client = new ServiceBusClient(connectionString);
    const sender = client.createSender('order-events');
    await sender.sendMessages({ body: { sku: 'SKU-1', quantity: 2 }, sessionId: 'basket-7', messageId: 'basket-7:1' });
    const receiver = await client.acceptSession('order-events', 'basket-7');
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 30_000 });
    assert.ok(message !== undefined, 'the session message came back');
    assert.deepEqual(
      { body: message.body as unknown, sessionId: message.sessionId, messageId: message.messageId },
      { body: { sku: 'SKU-1', quantity: 2 }, sessionId: 'basket-7', messageId: 'basket-7:1' },
    );
    await receiver.completeMessage(message);
    await client.close();
    client = undefined;

    // npm exec does not hand SIGTERM on: signal the group (npx, its shell, the emulator) and wait until
    // every holder of the output pipe is gone.
    let rest = '';
    emulator.stdout?.on('data', (chunk: Buffer) => (rest += chunk.toString()));
    const closed = once(emulator.stdout ?? emulator, 'close');
    if (emulator.pid !== undefined) process.kill(-emulator.pid, 'SIGTERM');
    await closed;
    assert.match(rest, /Received SIGTERM, stopping\./);
    assert.doesNotMatch(stderr, /Error while stopping/);
  });
});
