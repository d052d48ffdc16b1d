import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { ServiceBusClient } from '@azure/service-bus';

const root = join(__dirname, '..', '..', '..');

/** `npm start` as a child: node packages/dev-stack/src/start.ts on free ports (the built app in dist/). */
function start(
  args: string[] = [],
  viaShell = false,
): {
  child: ChildProcess;
  output: () => string;
  waitFor: (re: RegExp) => Promise<RegExpExecArray>;
} {
  const command = [
    process.execPath,
    '--import',
    'tsx',
    join(root, 'packages', 'dev-stack', 'src', 'start.ts'),
    '--port',
    '0',
    ...args,
  ];
  // viaShell: a parent that forks node and waits, as npm does (`; exit` keeps sh from exec'ing node).
  const child = viaShell
    ? spawn('/bin/sh', ['-c', `${command.map((a) => `'${a}'`).join(' ')}; exit $?`], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(command[0] ?? 'node', command.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters: (() => void)[] = [];
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const w of waiters.splice(0)) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const waitFor = (re: RegExp): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no ${String(re)} within 60 s in:\n${output}`));
      }, 60_000);
      const check = (): void => {
        const found = re.exec(output);
        if (found !== null) {
          clearTimeout(timer);
          resolve(found);
        } else if (child.exitCode !== null) {
          clearTimeout(timer);
          reject(new Error(`exited (${child.exitCode}) before ${String(re)}:\n${output}`));
        } else waiters.push(check);
      };
      check();
    });
  return { child, output: () => output, waitFor };
}

/** Alive and not a zombie (a reparented child may wait a moment to be reaped). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(stat, 'utf8'));
  } catch {
    return false;
  }
}

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (!running(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !running(pid);
}

const azuritePid = /Azurite \(tables\)\s+\S+\s+\(pid (\d+)\)/;

describe('npm start: Azurite lives and dies with it', () => {
  it('Azurite is gone within seconds when the npm start process is killed -9', async () => {
    const run = start();
    const [, pid] = await run.waitFor(azuritePid);
    await run.waitFor(/convoy is ready/);
    const [, consoleUrl = ''] = await run.waitFor(/^console: (http:\/\/\S+\/api\/console) /m);
    assert.match(
      (await fetch(consoleUrl)).headers.get('content-type') ?? '',
      /^text\/html/,
      'the printed console URL serves the page',
    );
    assert.ok(running(Number(pid)), 'Azurite runs while npm start does');
    const exited = once(run.child, 'exit');
    run.child.kill('SIGKILL');
    await exited;
    assert.ok(await gone(Number(pid), 8_000), `Azurite pid ${pid} outlived its parent`);
  });

  it('stops, and takes Azurite down, when its own parent (npm) is killed -9', async () => {
    const run = start([], true);
    const [, self] = await run.waitFor(/Functions host \(pid (\d+)\)/);
    const [, pid] = await run.waitFor(azuritePid);
    await run.waitFor(/convoy is ready/);
    run.child.kill('SIGKILL');
    assert.ok(await gone(Number(self), 15_000), `npm start (pid ${self}) outlived its parent`);
    assert.ok(await gone(Number(pid), 5_000), `Azurite pid ${pid} outlived npm start`);
  });

  it('in memory: a dead Azurite is reported at once and npm start exits 1 saying the data is gone', async () => {
    const run = start();
    const [, pid] = await run.waitFor(azuritePid);
    await run.waitFor(/convoy is ready/);
    const exited = once(run.child, 'exit');
    process.kill(Number(pid), 'SIGKILL');
    await run.waitFor(new RegExp(`Azurite \\(pid ${pid}\\) exited unexpectedly \\(signal SIGKILL\\)`));
    const [code] = (await exited) as [number | null];
    assert.equal(code, 1);
    assert.match(run.output(), /kept its data in memory.*gone.*--data-dir/);
  });

  it('with --data-dir: a dead Azurite is restarted on the same ports; SIGTERM then stops everything', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'convoy-start-'));
    const run = start(['--data-dir', dataDir]);
    const [, pid] = await run.waitFor(azuritePid);
    await run.waitFor(/convoy is ready/);
    assert.match(run.output(), /data: .*survive a restart/);
    process.kill(Number(pid), 'SIGKILL');
    await run.waitFor(new RegExp(`Azurite \\(pid ${pid}\\) exited unexpectedly.*restarting it on the same ports`));
    const [, next] = await run.waitFor(/Azurite is back \(pid (\d+)\)/);
    assert.ok(running(Number(next)));
    assert.ok(existsSync(join(dataDir, 'azurite')) && existsSync(join(dataDir, 'servicebus', 'emulator.journal')));
    const exited = once(run.child, 'exit');
    run.child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, run.output());
    assert.ok(await gone(Number(next), 8_000));
  });

  it('with --data-dir: a table row and a queued message survive kill -9 of npm start and a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'convoy-start-'));
    const connections = /Service Bus\s+(Endpoint=\S+)[\s\S]*Azurite\s+(DefaultEndpointsProtocol=.+)\n/;
    const devKey = (text: string): string =>
      text.replace(
        '<dev key>',
        'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
      );
    const first = start(['--data-dir', dataDir]);
    const [, sb1, storage1] = await first.waitFor(connections);
    await first.waitFor(/convoy is ready/);
    const table = TableClient.fromConnectionString(devKey(storage1 ?? ''), 'h5probe', {
      allowInsecureConnection: true,
    });
    await table.createTable();
    await table.createEntity({ partitionKey: 'p', rowKey: 'r', value: 'kept' });
    const client = new ServiceBusClient(sb1 ?? '');
    // Scheduled an hour ahead, so the app does not consume it before the kill.
    const sent = await client
      .createSender('order-events')
      .scheduleMessages(
        { body: 'later', sessionId: 'h5-probe', messageId: 'h5-probe-1' },
        new Date(Date.now() + 3_600_000),
      );
    await client.close();
    const exited = once(first.child, 'exit');
    first.child.kill('SIGKILL');
    await exited;

    const second = start(['--data-dir', dataDir]);
    try {
      const [, sb2, storage2] = await second.waitFor(connections);
      await second.waitFor(/convoy is ready/);
      const again = TableClient.fromConnectionString(devKey(storage2 ?? ''), 'h5probe', {
        allowInsecureConnection: true,
      });
      const row = await again.getEntity<{ value: string }>('p', 'r');
      assert.equal(row.value, 'kept');
      const client2 = new ServiceBusClient(sb2 ?? '');
      const session = await client2.acceptSession('order-events', 'h5-probe');
      const peeked = (await session.peekMessages(1)).at(0) ?? assert.fail('the scheduled message is gone');
      await client2.close();
      assert.equal(peeked.body, 'later');
      assert.equal(String(peeked.sequenceNumber), String(sent[0]));
    } finally {
      const stopped = once(second.child, 'exit');
      second.child.kill('SIGTERM');
      await stopped;
    }
  });
});
