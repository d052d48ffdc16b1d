import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, existsSync, mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Crash-safe key/value records for the durable backend's `dataDir`: each commit is one JSON line
 * (every record changed since the last commit, `null` for a deleted key), appended and fsynced
 * before `commit()` resolves. A line cut short by a crash fails to parse and is dropped whole, so a
 * batch is kept entirely or not at all. Opening replays the file (last write wins) and rewrites it
 * with only the live records.
 */
export type JournalRecords = Map<string, unknown>;

interface Line {
  set: Record<string, unknown>;
  del: string[];
}

function isLine(value: unknown): value is Line {
  return (
    typeof value === 'object' &&
    value !== null &&
    'set' in value &&
    typeof value.set === 'object' &&
    value.set !== null &&
    'del' in value &&
    Array.isArray(value.del)
  );
}

function fsyncDir(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads the journal at `file` (missing = empty); returns the live records and how many lines were dropped. */
export function readJournal(file: string): { records: JournalRecords; dropped: number } {
  const records: JournalRecords = new Map();
  let dropped = 0;
  if (!existsSync(file)) return { records, dropped };
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    if (text === '') continue;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      dropped++;
      continue;
    }
    if (!isLine(line)) {
      dropped++;
      continue;
    }
    for (const [key, value] of Object.entries(line.set)) records.set(key, value);
    for (const key of line.del) if (typeof key === 'string') records.delete(key);
  }
  return { records, dropped };
}

/** Writes the live records to a new file, fsyncs it, then atomically replaces `file`; returns its size. */
function writeSnapshot(file: string, records: ReadonlyMap<string, unknown>): number {
  const temp = `${file}.compact`;
  const fd = openSync(temp, 'w');
  let size = 0;
  try {
    const set = Object.fromEntries(records);
    if (records.size > 0) size = writeSync(fd, `${JSON.stringify({ set, del: [] })}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  fsyncDir(dirname(file));
  return size;
}

export class Journal {
  /** Keys the file holds a live record for (what a rewrite must carry over). */
  private readonly live: Set<string>;
  /** Bytes appended since the file was last rewritten, and the size it was rewritten to. */
  private appended = 0;

  private constructor(
    private handle: FileHandle | undefined,
    readonly file: string,
    live: Iterable<string>,
    private base: number,
    private readonly compactBytes: number,
  ) {
    this.live = new Set(live);
  }

  private pending: Promise<void> = Promise.resolve();

  /** Replays and compacts `<dir>/<name>`, then opens it for appending. */
  static async open(
    dir: string,
    name: string,
    options: { compactBytes?: number } = {},
  ): Promise<{ journal: Journal; records: JournalRecords; dropped: number }> {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, name);
    const { records, dropped } = readJournal(file);
    const size = writeSnapshot(file, records);
    const handle = await open(file, 'a');
    const journal = new Journal(handle, file, records.keys(), size, options.compactBytes ?? 64 * 2 ** 20);
    return { journal, records, dropped };
  }

  get liveKeys(): ReadonlySet<string> {
    return this.live;
  }

  /** True once more than compactBytes and twice the last rewritten size were appended: time for rewrite(). */
  get grown(): boolean {
    return this.appended > Math.max(this.compactBytes, 2 * this.base);
  }

  /** Appends one batch and resolves once it is on disk. Batches are written in call order. */
  commit(set: ReadonlyMap<string, unknown>, del: readonly string[]): Promise<void> {
    const line = `${JSON.stringify({ set: Object.fromEntries(set), del })}\n`;
    for (const key of set.keys()) this.live.add(key);
    for (const key of del) this.live.delete(key);
    this.appended += line.length;
    return this.enqueue(async (handle) => {
      await handle.write(line);
      await handle.datasync();
    });
  }

  /**
   * Replaces the file with exactly `records` (every live record, current values): same guarantee as
   * a commit, and the file shrinks back to the live size. Queued after the commits before it.
   */
  rewrite(records: ReadonlyMap<string, unknown>): Promise<void> {
    this.live.clear();
    for (const key of records.keys()) this.live.add(key);
    this.appended = 0;
    return this.enqueue(async (handle) => {
      this.base = writeSnapshot(this.file, records);
      // The old handle points at the replaced file: append to the new one from here on.
      this.handle = await open(this.file, 'a');
      await handle.close();
    });
  }

  private enqueue(step: (handle: FileHandle) => Promise<void>): Promise<void> {
    const write = this.pending.then(async () => {
      const handle = this.handle;
      if (handle === undefined) throw new Error(`The journal ${this.file} is closed.`);
      await step(handle);
    });
    // A failed write fails its own commit; later commits still run.
    this.pending = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    await this.pending;
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}
