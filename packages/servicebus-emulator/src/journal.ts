import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { encodeDelivery, parseMessage, sourceBytes, type ParsedMessage } from './codec';
import type { StoredMessage } from './entityState';

/**
 * The emulator's write-ahead journal (`--data-dir`): one JSON line per change of what Service Bus keeps
 * durably — accepted messages (with scheduled/deferred state and delivery count), removals, session
 * state and duplicate-detection ids. Locks are not journaled: a restart releases them, as the service
 * does when a broker node fails over.
 *
 * Durability: every record reaches the kernel with a synchronous write before the broker answers the
 * client (the send's `accepted`, the settlement's disposition), so killing the emulator process, even
 * with SIGKILL, loses nothing acknowledged. The file is fdatasync'ed every `syncIntervalMs` (default
 * 200 ms) while dirty, which bounds what a power cut or kernel crash can take; `syncIntervalMs: 0`
 * syncs every write instead (slower; see docs/emulator.md).
 */
export type JournalRecord =
  | {
      t: 'a';
      /** Entity path as configured (case preserved). */
      e: string;
      s: number;
      /** The message as sent (header, annotations, properties, body), base64. */
      m: string;
      /** Replacement application properties + body (dead-lettered copies), base64. */
      b?: string;
      at: number;
      /** Expiry in ms since epoch; null = never (JSON has no Infinity). */
      x: number | null;
      st: 'active' | 'scheduled' | 'deferred';
      n: number;
      dl?: string;
    }
  | { t: 'r'; e: string; s: number }
  | { t: 'c'; e: string; s: number; n: number }
  | { t: 'f'; e: string; s: number }
  | { t: 's'; e: string; id: string; v: string | null }
  | { t: 'u'; k: string; id: string; x: number }
  | { t: 'x'; e: string }
  | { t: 'q'; e: string; n: number };

/** A message as the journal gives it back. */
export interface RecoveredMessage {
  seq: number;
  parsed: ParsedMessage;
  bodyBytes: Buffer | undefined;
  enqueuedAt: number;
  expiresAt: number;
  deliveryCount: number;
  state: 'active' | 'scheduled' | 'deferred';
  deadLetterSource: string | undefined;
}

export interface RecoveredEntity {
  /** Path as journaled (case preserved). */
  path: string;
  /** The next sequence number to hand out (sequence numbers are never reused). */
  nextSeq: number;
  messages: RecoveredMessage[];
  sessionStates: Map<string, Buffer>;
}

export interface Recovered {
  /** By lower-cased path. */
  entities: Map<string, RecoveredEntity>;
  /** Duplicate-detection ids by lower-cased send target: id -> expiry (ms since epoch). */
  duplicates: Map<string, Map<string, number>>;
  /** Lines read, and whether a torn last line (a write cut by a crash) was skipped. */
  records: number;
  tornTail: boolean;
}

/** What entities.ts and namespace.ts call; `undefined` journal = in memory only. */
export interface JournalSink {
  accepted(path: string, message: StoredMessage): void;
  removed(path: string, seq: number): void;
  counted(path: string, seq: number, deliveryCount: number): void;
  deferred(path: string, seq: number): void;
  sessionState(path: string, id: string, state: Buffer | undefined): void;
  duplicateId(targetKey: string, id: string, expiresAt: number): void;
  dropped(path: string): void;
  /** Runs `fn` with its records written in one write (a send to a topic, a batch, a dead-lettering). */
  batch<T>(fn: () => T): T;
}

const fileName = 'emulator.journal';
/** Directories this process has open (the pid in the lock file cannot tell two of ours apart). */
const openHere = new Set<string>();
const lockName = 'emulator.lock';

export function acceptedRecord(path: string, message: StoredMessage): JournalRecord {
  // The bytes as sent when the fast parser kept them; else re-encoded (same sections, delivery count 0).
  const raw =
    sourceBytes(message.parsed) ??
    encodeDelivery({ parsed: message.parsed, deliveryCount: 0, annotations: message.parsed.annotations });
  const record: JournalRecord = {
    t: 'a',
    e: path,
    s: message.seq,
    m: raw.toString('base64'),
    at: message.enqueuedAt,
    x: Number.isFinite(message.expiresAt) ? message.expiresAt : null,
    st: message.state,
    n: message.deliveryCount,
  };
  if (message.bodyBytes !== undefined) record.b = message.bodyBytes.toString('base64');
  if (message.deadLetterSource !== undefined) record.dl = message.deadLetterSource;
  return record;
}

export class Journal implements JournalSink {
  private fd: number | undefined;
  private pending: string[] = [];
  private depth = 0;
  private dirty = false;
  private readonly syncTimer: NodeJS.Timeout | undefined;
  private readonly file: string;
  private readonly lockFile: string;
  /** Bytes appended since the file was last rewritten, and the size it was rewritten to. */
  private appended = 0;
  private base = 0;
  private compactor: (() => Iterable<JournalRecord>) | undefined;
  private compactPending = false;

  private constructor(
    readonly dir: string,
    private readonly syncIntervalMs: number,
    private readonly compactBytes: number,
  ) {
    this.file = join(dir, fileName);
    this.lockFile = join(dir, lockName);
    if (syncIntervalMs > 0) {
      this.syncTimer = setInterval(() => {
        this.sync();
      }, syncIntervalMs);
      this.syncTimer.unref();
    }
  }

  /** Takes the directory (one emulator per directory) and reads what it holds. */
  static open(
    dir: string,
    options: { syncIntervalMs?: number; compactBytes?: number } = {},
  ): { journal: Journal; recovered: Recovered } {
    mkdirSync(dir, { recursive: true });
    const key = resolve(dir);
    if (openHere.has(key))
      throw new Error(`The data directory ${dir} is in use by another emulator in this process; close it first.`);
    takeLock(join(dir, lockName));
    openHere.add(key);
    const journal = new Journal(dir, options.syncIntervalMs ?? 200, options.compactBytes ?? 64 * 2 ** 20);
    try {
      return { journal, recovered: journal.read() };
    } catch (error) {
      journal.close();
      throw error;
    }
  }

  private read(): Recovered {
    const recovered: Recovered = { entities: new Map(), duplicates: new Map(), records: 0, tornTail: false };
    if (!existsSync(this.file)) return recovered;
    const text = readFileSync(this.file, 'utf8');
    const lines = text.split('\n');
    // A SIGKILL or power cut can leave the last line short; nothing in it was acknowledged.
    const complete = text.endsWith('\n') || text.length === 0;
    if (!complete) recovered.tornTail = true;
    // The element after the last newline is '' (complete) or the torn line: never a record.
    for (let i = 0; i < lines.length - 1; i++) {
      const line = lines[i];
      if (line === undefined || line === '') continue;
      let record: JournalRecord;
      try {
        record = JSON.parse(line) as JournalRecord;
      } catch {
        throw new Error(`${this.file} line ${i + 1} is not a journal record; the data directory is damaged.`);
      }
      apply(recovered, record);
      recovered.records++;
    }
    return recovered;
  }

  /** Rewrites the journal as exactly the records that recreate the current state, then appends to it. */
  compact(records: Iterable<JournalRecord>): void {
    const temp = `${this.file}.compact`;
    const fd = openSync(temp, 'w');
    let total = 0;
    try {
      let chunk: string[] = [];
      let size = 0;
      for (const record of records) {
        const line = `${JSON.stringify(record)}\n`;
        chunk.push(line);
        size += line.length;
        if (size > 1 << 20) {
          writeSync(fd, chunk.join(''));
          total += size;
          chunk = [];
          size = 0;
        }
      }
      if (chunk.length > 0) writeSync(fd, chunk.join(''));
      total += size;
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (this.fd !== undefined) {
      // Rewriting while running: what the old file holds is all in the new one.
      closeSync(this.fd);
      this.fd = undefined;
      this.dirty = false;
    }
    renameSync(temp, this.file);
    syncDirectory(this.dir);
    this.fd = openSync(this.file, 'a');
    this.base = total;
    this.appended = 0;
  }

  /**
   * Rewrites the journal from `snapshot()` whenever what was appended since the last rewrite passes
   * compactBytes and twice the rewritten size, so a long run's journal stays near its live size.
   * The rewrite runs on a later tick, outside any batch, when state and appended records agree.
   */
  compactWhenGrown(snapshot: () => Iterable<JournalRecord>): void {
    this.compactor = snapshot;
  }

  private maybeCompact(): void {
    const snapshot = this.compactor;
    if (snapshot === undefined || this.compactPending) return;
    if (this.appended <= Math.max(this.compactBytes, 2 * this.base)) return;
    this.compactPending = true;
    setImmediate(() => {
      this.compactPending = false;
      if (this.fd === undefined || this.depth > 0) return;
      this.compact(snapshot());
    });
  }

  private append(record: JournalRecord): void {
    const line = `${JSON.stringify(record)}\n`;
    if (this.depth > 0) {
      this.pending.push(line);
      return;
    }
    this.write(line);
  }

  private write(text: string): void {
    if (this.fd === undefined) throw new Error('The emulator journal is not open (compact() opens it).');
    writeSync(this.fd, text);
    if (this.syncIntervalMs <= 0) fdatasyncSync(this.fd);
    else this.dirty = true;
    this.appended += text.length;
    this.maybeCompact();
  }

  batch<T>(fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
      if (this.depth === 0 && this.pending.length > 0) {
        const text = this.pending.join('');
        this.pending = [];
        this.write(text);
      }
    }
  }

  accepted(path: string, message: StoredMessage): void {
    this.append(acceptedRecord(path, message));
  }
  removed(path: string, seq: number): void {
    this.append({ t: 'r', e: path, s: seq });
  }
  counted(path: string, seq: number, deliveryCount: number): void {
    this.append({ t: 'c', e: path, s: seq, n: deliveryCount });
  }
  deferred(path: string, seq: number): void {
    this.append({ t: 'f', e: path, s: seq });
  }
  sessionState(path: string, id: string, state: Buffer | undefined): void {
    this.append({ t: 's', e: path, id, v: state === undefined ? null : state.toString('base64') });
  }
  duplicateId(targetKey: string, id: string, expiresAt: number): void {
    this.append({ t: 'u', k: targetKey, id, x: expiresAt });
  }
  dropped(path: string): void {
    this.append({ t: 'x', e: path });
  }

  sync(): void {
    if (!this.dirty || this.fd === undefined) return;
    this.dirty = false;
    fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.syncTimer !== undefined) clearInterval(this.syncTimer);
    if (this.fd !== undefined) {
      this.sync();
      closeSync(this.fd);
      this.fd = undefined;
    }
    rmSync(this.lockFile, { force: true });
    openHere.delete(resolve(this.dir));
  }
}

function entityOf(recovered: Recovered, path: string): RecoveredEntity {
  const key = path.toLowerCase();
  let entity = recovered.entities.get(key);
  if (entity === undefined) {
    entity = { path, nextSeq: 1, messages: [], sessionStates: new Map() };
    recovered.entities.set(key, entity);
  }
  return entity;
}

/** Messages by seq while reading; turned into the sorted array at the end of each apply. */
const bySeq = new WeakMap<RecoveredEntity, Map<number, RecoveredMessage>>();

function messagesOf(entity: RecoveredEntity): Map<number, RecoveredMessage> {
  let map = bySeq.get(entity);
  if (map === undefined) {
    map = new Map(entity.messages.map((m) => [m.seq, m]));
    bySeq.set(entity, map);
  }
  return map;
}

function apply(recovered: Recovered, record: JournalRecord): void {
  switch (record.t) {
    case 'a':
      applyAccepted(recovered, record);
      break;
    case 'r':
      messagesOf(entityOf(recovered, record.e)).delete(record.s);
      break;
    case 'c': {
      const message = messagesOf(entityOf(recovered, record.e)).get(record.s);
      if (message !== undefined) message.deliveryCount = record.n;
      break;
    }
    case 'f': {
      const message = messagesOf(entityOf(recovered, record.e)).get(record.s);
      if (message !== undefined) message.state = 'deferred';
      break;
    }
    case 's': {
      const entity = entityOf(recovered, record.e);
      if (record.v === null) entity.sessionStates.delete(record.id);
      else entity.sessionStates.set(record.id, Buffer.from(record.v, 'base64'));
      break;
    }
    case 'u':
      applyDuplicateId(recovered, record);
      break;
    case 'x': {
      const key = record.e.toLowerCase();
      const entity = recovered.entities.get(key);
      if (entity !== undefined) bySeq.delete(entity);
      recovered.entities.delete(key);
      break;
    }
    case 'q': {
      const entity = entityOf(recovered, record.e);
      entity.nextSeq = Math.max(entity.nextSeq, record.n);
      break;
    }
    default: {
      const unknown: { t?: unknown } = record;
      throw new Error(`Unknown emulator journal record type ${JSON.stringify(unknown.t)}.`);
    }
  }
}

function applyAccepted(recovered: Recovered, record: Extract<JournalRecord, { t: 'a' }>): void {
  const entity = entityOf(recovered, record.e);
  const message: RecoveredMessage = {
    seq: record.s,
    parsed: parseMessage(Buffer.from(record.m, 'base64')),
    bodyBytes: record.b === undefined ? undefined : Buffer.from(record.b, 'base64'),
    enqueuedAt: record.at,
    expiresAt: record.x ?? Infinity,
    deliveryCount: record.n,
    state: record.st,
    deadLetterSource: record.dl,
  };
  messagesOf(entity).set(record.s, message);
  entity.nextSeq = Math.max(entity.nextSeq, record.s + 1);
}

/** Deleted first, so a duplicate-detection id seen again moves to the end of the map's order. */
function applyDuplicateId(recovered: Recovered, record: Extract<JournalRecord, { t: 'u' }>): void {
  let ids = recovered.duplicates.get(record.k);
  if (ids === undefined) {
    ids = new Map();
    recovered.duplicates.set(record.k, ids);
  }
  ids.delete(record.id);
  ids.set(record.id, record.x);
}

/** The recovered entities with their messages in sequence order (call once, after reading). */
export function recoveredEntities(recovered: Recovered): RecoveredEntity[] {
  const list = [...recovered.entities.values()];
  for (const entity of list) {
    const map = bySeq.get(entity);
    if (map !== undefined) entity.messages = [...map.values()].sort((a, b) => a.seq - b.seq);
  }
  return list;
}

function takeLock(lockFile: string): void {
  try {
    writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const holder = Number(readFileSync(lockFile, 'utf8').trim());
  if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
    throw new Error(
      `The data directory is in use by another emulator (pid ${holder}, ${lockFile}); stop it or choose another --data-dir.`,
    );
  }
  // Left by a process that died: take it over.
  writeFileSync(lockFile, String(process.pid));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
