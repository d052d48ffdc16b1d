import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Journal, readJournal } from '../../src/durable/journal';
import { Persistence } from '../../src/durable/persistence';

describe('durable journal (dataDir)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps committed batches across reopen, last write wins, deletes remove', async () => {
    const first = await Journal.open(dir, 'a.jsonl');
    assert.equal(first.records.size, 0);
    await first.journal.commit(
      new Map<string, unknown>([
        ['o:1', { v: 1 }],
        ['e:x', { s: 'a' }],
      ]),
      [],
    );
    await first.journal.commit(new Map<string, unknown>([['o:1', { v: 2 }]]), ['e:x']);
    await first.journal.close();

    const second = await Journal.open(dir, 'a.jsonl');
    assert.deepEqual([...second.records], [['o:1', { v: 2 }]]);
    await second.journal.close();
    // Compaction on open left one line holding only the live record.
    assert.equal(readFileSync(join(dir, 'a.jsonl'), 'utf8'), '{"set":{"o:1":{"v":2}},"del":[]}\n');
  });

  it('drops a batch cut short by a crash as a whole and keeps the earlier ones', async () => {
    const { journal } = await Journal.open(dir, 'b.jsonl');
    await journal.commit(new Map<string, unknown>([['k', 1]]), []);
    await journal.close();
    // What a kill in the middle of writing the second batch leaves behind.
    appendFileSync(join(dir, 'b.jsonl'), '{"set":{"k":2,"other":');
    const read = readJournal(join(dir, 'b.jsonl'));
    assert.deepEqual([...read.records], [['k', 1]]);
    assert.equal(read.dropped, 1);
  });

  it('saving through Persistence rewrites a grown journal to the live records; reopening finds the current state', async () => {
    const opened = await Journal.open(dir, 'd.jsonl', { compactBytes: 2_000 });
    const state = new Map<string, unknown>();
    const persistence = new Persistence(
      opened.journal,
      (key) => state.get(key),
      () => undefined,
    );
    let largest = 0;
    for (let i = 0; i < 300; i++) {
      // One instance changes every time, one once, one is deleted half-way: 300 lines without a rewrite.
      state.set('i/busy', { step: i, pad: 'x'.repeat(100) });
      if (i === 0) state.set('e/quiet', { s: 'once' });
      if (i === 0) state.set('i/gone', { s: 'temp' });
      if (i === 150) state.delete('i/gone');
      for (const key of ['i/busy', ...(i === 0 ? ['e/quiet'] : []), ...(i === 0 || i === 150 ? ['i/gone'] : [])])
        persistence.mark(key);
      await persistence.synced();
      largest = Math.max(largest, statSync(join(dir, 'd.jsonl')).size);
    }
    await persistence.stop();
    assert.ok(largest < 8_000, `the file reached ${String(largest)} bytes`);
    const reopened = readJournal(join(dir, 'd.jsonl'));
    assert.deepEqual(
      [...reopened.records].sort(([a], [b]) => a.localeCompare(b)),
      [
        ['e/quiet', { s: 'once' }],
        ['i/busy', { step: 299, pad: 'x'.repeat(100) }],
      ],
    );
    assert.equal(reopened.dropped, 0);
  });

  it('refuses commits after close, naming the file', async () => {
    const { journal } = await Journal.open(dir, 'c.jsonl');
    await journal.close();
    await assert.rejects(journal.commit(new Map([['k', 1]]), []), /journal .*c\.jsonl is closed/);
  });
});
