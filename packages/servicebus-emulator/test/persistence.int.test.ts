import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { ServiceBusClient, type ServiceBusReceivedMessage } from '@azure/service-bus';
import { startEmulator } from '../src/index';
import { fastRetry, testConfig } from './helpers';

const cli = join(__dirname, '..', 'src', 'cli.ts');

/** `npm run emulator -- --data-dir`, as a child process that can be killed -9. */
async function startChild(dataDir: string, config: string): Promise<{ child: ChildProcess; connection: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cli, '--port', '0', '--config', config, '--data-dir', dataDir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  const second = await lines.next();
  if (first.done === true || second.done === true) throw new Error(`emulator did not start: ${stderr}`);
  assert.match(second.value, /data in /);
  return { child, connection: first.value };
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

function setup(): { dataDir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'emulator-persist-'));
  const config = join(dir, 'Config.json');
  writeFileSync(config, JSON.stringify(testConfig));
  return { dataDir: join(dir, 'data'), config };
}

describe('emulator --data-dir', () => {
  it('after kill -9 and a restart, serves what was accepted and not settled, in order, with counts, state, DLQ and duplicate ids', async () => {
    const { dataDir, config } = setup();
    const first = await startChild(dataDir, config);
    let client = new ServiceBusClient(first.connection, fastRetry);
    const sender = client.createSender('orders');
    await sender.sendMessages(
      Array.from({ length: 10 }, (_, i) => ({ body: `m${i}`, sessionId: 'p', messageId: `id-${i}` })),
    );
    const plain = client.createSender('plain');
    await plain.sendMessages([{ body: 'poison' }, { body: 'left-locked' }, { body: 'untouched' }]);
    const scheduledAt = new Date(Date.now() + 1500);
    await plain.scheduleMessages({ body: 'scheduled' }, scheduledAt);

    const session = await client.acceptSession('orders', 'p');
    const got = await session.receiveMessages(4, { maxWaitTimeInMs: 2000 });
    assert.deepEqual(
      got.map((m): unknown => m.body),
      ['m0', 'm1', 'm2', 'm3'],
    );
    const [m0, m1, m2, m3] = got as [
      ServiceBusReceivedMessage,
      ServiceBusReceivedMessage,
      ServiceBusReceivedMessage,
      ServiceBusReceivedMessage,
    ];
    await session.completeMessage(m0);
    await session.completeMessage(m1);
    await session.deferMessage(m2);
    await session.abandonMessage(m3);
    await session.setSessionState('step-2');
    const deferredSeq = m2.sequenceNumber;
    const plainReceiver = client.createReceiver('plain');
    const received = await plainReceiver.receiveMessages(2, { maxWaitTimeInMs: 2000 });
    assert.deepEqual(
      received.map((m): unknown => m.body),
      ['poison', 'left-locked'],
    );
    const poison = received[0] ?? assert.fail('no poison');
    await plainReceiver.deadLetterMessage(poison, { deadLetterReason: 'Bad', deadLetterErrorDescription: 'bad body' });
    // `locked` stays unsettled: the restart must release its lock.
    await kill9(first.child);
    await client.close().catch(() => undefined);

    const second = await startChild(dataDir, config);
    client = new ServiceBusClient(second.connection, fastRetry);
    try {
      const again = await client.acceptSession('orders', 'p');
      assert.equal(String(await again.getSessionState()), 'step-2');
      const rest = await again.receiveMessages(20, { maxWaitTimeInMs: 1500 });
      assert.deepEqual(
        rest.map((m): unknown => m.body),
        ['m3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'],
      );
      assert.equal(rest[0]?.deliveryCount, 1, 'the abandon counted before the crash is kept');
      assert.equal(rest[1]?.deliveryCount, 0);
      const seqs = rest.map((m) => Number(m.sequenceNumber));
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
      );
      if (deferredSeq === undefined) assert.fail('no sequence number');
      const deferred = (await again.receiveDeferredMessages(deferredSeq)).at(0) ?? assert.fail('deferred lost');
      assert.equal(deferred.body, 'm2');
      for (const m of rest) await again.completeMessage(m);
      await again.completeMessage(deferred);
      await again.close();

      // Duplicate detection remembers ids across the restart; sequence numbers are never reused.
      const resend = client.createSender('orders');
      await resend.sendMessages([
        { body: 'dup', sessionId: 'p', messageId: 'id-4' },
        { body: 'new', sessionId: 'p', messageId: 'id-new' },
      ]);
      const fresh = await client.acceptSession('orders', 'p');
      const after = await fresh.receiveMessages(5, { maxWaitTimeInMs: 1000 });
      assert.deepEqual(
        after.map((m): unknown => m.body),
        ['new'],
      );
      assert.ok(Number(after[0]?.sequenceNumber) > Math.max(...seqs));
      await fresh.close();

      const plainAgain = client.createReceiver('plain');
      const visible = await plainAgain.receiveMessages(5, { maxWaitTimeInMs: 1000 });
      assert.deepEqual(
        visible.slice(0, 2).map((m): unknown => m.body),
        ['left-locked', 'untouched'],
      );
      assert.equal(visible[0]?.deliveryCount, 0, 'a lock lost to the crash is not counted');
      // The scheduled one shows up at its time (the slow machine may already be past it).
      const scheduled =
        visible[2] ?? (await plainAgain.receiveMessages(1, { maxWaitTimeInMs: 5000 })).at(0) ?? assert.fail('lost');
      assert.equal(scheduled.body, 'scheduled');
      assert.ok((scheduled.enqueuedTimeUtc?.getTime() ?? 0) >= scheduledAt.getTime() - 1);
      const dlq = client.createReceiver('plain', { subQueueType: 'deadLetter' });
      const dead = (await dlq.receiveMessages(1, { maxWaitTimeInMs: 1000 })).at(0) ?? assert.fail('DLQ empty');
      assert.equal(dead.body, 'poison');
      assert.equal(dead.deadLetterReason, 'Bad');
      assert.equal(dead.deadLetterErrorDescription, 'bad body');
    } finally {
      await client.close().catch(() => undefined);
      await kill9(second.child);
    }
  });

  it('rewrites a grown journal to its live records while running; a restart still finds them', async () => {
    const { dataDir } = setup();
    const file = join(dataDir, 'emulator.journal');
    const a = await startEmulator({ config: testConfig, dataDir, journalCompactBytes: 8_000 });
    const client = new ServiceBusClient(a.connectionString, fastRetry);
    const sender = client.createSender('plain');
    const receiver = client.createReceiver('plain', { receiveMode: 'receiveAndDelete' });
    let appended = 0;
    for (let round = 0; round < 20; round++) {
      const before = statSync(file).size;
      await sender.sendMessages(Array.from({ length: 20 }, (_, i) => ({ body: `r${round}-m${i}-${'x'.repeat(200)}` })));
      // All but the last round is consumed: the journal's live part is 20 messages.
      if (round < 19) {
        let got = 0;
        while (got < 20) got += (await receiver.receiveMessages(20 - got, { maxWaitTimeInMs: 2000 })).length;
      }
      appended += Math.max(0, statSync(file).size - before);
    }
    await client.close();
    await a.close();
    // 400 messages of ~250 bytes went through; without the rewrite the file would hold them all.
    const size = statSync(file).size;
    assert.ok(size < 30_000, `journal is ${String(size)} bytes after ~${String(appended)} appended`);

    const b = await startEmulator({ config: testConfig, dataDir });
    const again = new ServiceBusClient(b.connectionString, fastRetry);
    try {
      const left: ServiceBusReceivedMessage[] = [];
      const plain = again.createReceiver('plain');
      for (;;) {
        const batch = await plain.receiveMessages(30 - left.length, { maxWaitTimeInMs: 1000 });
        left.push(...batch);
        if (batch.length === 0 || left.length >= 30) break;
      }
      assert.deepEqual(
        left.map((m) => String(m.body).slice(0, 7)),
        Array.from({ length: 20 }, (_, i) => `r19-m${String(i)}-`.slice(0, 7)),
      );
    } finally {
      await again.close();
      await b.close();
    }
  });

  it('skips a torn last line, refuses a damaged one, and refuses a data dir in use', async () => {
    const { dataDir } = setup();
    const a = await startEmulator({ config: testConfig, dataDir });
    const client = new ServiceBusClient(a.connectionString, fastRetry);
    await client.createSender('plain').sendMessages({ body: 'kept' });
    await assert.rejects(startEmulator({ config: testConfig, dataDir }), /in use by another emulator/);
    await client.close();
    await a.close();

    const file = join(dataDir, 'emulator.journal');
    appendFileSync(file, '{"t":"a","e":"plain","s":9');
    const b = await startEmulator({ config: testConfig, dataDir });
    const plain = b.stats().entities.find((e) => e.path === 'plain');
    assert.equal(plain?.active, 1);
    await b.close();
    assert.ok(readFileSync(file, 'utf8').endsWith('\n'), 'compaction dropped the torn line');

    writeFileSync(file, `not json\n${readFileSync(file, 'utf8')}`);
    await assert.rejects(startEmulator({ config: testConfig, dataDir }), /line 1 is not a journal record/);
  });
});
