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

export class Journal {
  private constructor(
    private handle: FileHandle | undefined,
    readonly file: string,
  ) {}

  private pending: Promise<void> = Promise.resolve();

  /** Replays and compacts `<dir>/<name>`, then opens it for appending. */
  static async open(
    dir: string,
    name: string,
  ): Promise<{ journal: Journal; records: JournalRecords; dropped: number }> {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, name);
    const { records, dropped } = readJournal(file);
    // Compact: write the live records to a new file, fsync it, then atomically replace the old one.
    const temp = `${file}.compact`;
    const fd = openSync(temp, 'w');
    try {
      const set = Object.fromEntries(records);
      if (records.size > 0) writeSync(fd, `${JSON.stringify({ set, del: [] })}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
    fsyncDir(dirname(file));
    const handle = await open(file, 'a');
    return { journal: new Journal(handle, file), records, dropped };
  }

  /** Appends one batch and resolves once it is on disk. Batches are written in call order. */
  commit(set: ReadonlyMap<string, unknown>, del: readonly string[]): Promise<void> {
    const line = `${JSON.stringify({ set: Object.fromEntries(set), del })}\n`;
    const write = this.pending.then(async () => {
      const handle = this.handle;
      if (handle === undefined) throw new Error(`The journal ${this.file} is closed.`);
      await handle.write(line);
      await handle.datasync();
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
