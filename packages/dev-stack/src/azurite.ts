import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/** Azurite's well-known development account: public, documented, not a secret. */
export const devAccountName = 'devstoreaccount1';
export const devAccountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteHandle {
  /** Connection string for blob, queue and table on the ports this instance listens on. */
  connectionString: string;
  tableEndpoint: string;
  blobPort: number;
  queuePort: number;
  tablePort: number;
  /** Azurite's process id. */
  pid: number;
  /** Where Azurite keeps its data; undefined = in memory. */
  location: string | undefined;
  /** Resolves when Azurite exits for any reason; `expected` = close() asked for it. */
  exited: Promise<AzuriteExit>;
  close(): Promise<void>;
}

/** One save of an Azurite database file (reported by the child's save reporter, below). */
export interface AzuriteSave {
  /** The database file's name, e.g. `__azurite_db_table__.json` (all tables). */
  file: string;
  /** When the saved copy was taken (ms since epoch): writes answered before this are in the file. */
  snapshotAt: number;
  /** How long serialising and writing the file took. */
  durationMs: number;
}

/** The file Azurite keeps every table and entity in (LokiJS), under --location. */
export const azuriteTableDbFile = '__azurite_db_table__.json';

export interface AzuriteExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  expected: boolean;
}

export interface AzuriteOptions {
  blobPort?: number;
  queuePort?: number;
  tablePort?: number;
  /** Print Azurite's own output (debugging). */
  verbose?: boolean;
  /** Keep blobs, queues and tables in this directory (Azurite --location); absent = in memory. */
  location?: string;
  /** Each save Azurite makes of a database file under `location` (it saves every 5 s while changed). */
  onSave?: (save: AzuriteSave) => void;
}

/**
 * Preloaded into Azurite (node --require). Node has no PR_SET_PDEATHSIG, but the IPC channel to the
 * parent closes when the parent dies, however it dies (SIGKILL included): Azurite stops then, with
 * SIGTERM first so it flushes its --location files.
 */
const parentWatch = `'use strict';
if (typeof process.send === 'function') {
  process.on('disconnect', () => {
    // The parent cannot clean up after itself any more: remove the temp workspace this file lives in.
    process.on('exit', () => require('node:fs').rmSync(__dirname, { recursive: true, force: true }));
    // Nobody reads our pipes any more: Azurite's shutdown logging would die of EPIPE before it saves.
    for (const stream of [process.stdout, process.stderr]) {
      stream.on('error', () => undefined);
      stream.write = () => true;
    }
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(70), 5000).unref();
  });
  if (process.channel) process.channel.unref();
}
`;

/**
 * Preloaded into Azurite with --location. Azurite keeps tables in LokiJS, which saves the whole
 * database every 5 s (not configurable): what was written since the last save is lost if Azurite is
 * killed. Each save is reported to the parent with the time its copy was taken (Loki serialises
 * synchronously before writing the file, then renames it into place), so the parent knows which
 * acknowledged writes the file holds. Hooks Loki's internal save, so a Loki upgrade may need a look:
 * test/e2e/azuriteKill.e2e.test.ts fails if no save is reported.
 */
const saveReporter = `'use strict';
const path = require('node:path');
let Loki;
try {
  Loki = require(require.resolve('lokijs', { paths: [path.dirname(process.argv[1])] }));
} catch {}
const save = Loki && Loki.prototype.saveDatabaseInternal;
if (typeof save === 'function' && typeof process.send === 'function') {
  Loki.prototype.saveDatabaseInternal = function (callback) {
    const snapshotAt = Date.now();
    const file = path.basename(String(this.filename));
    return save.call(this, (error) => {
      if (!error && process.connected)
        process.send({ convoyAzuriteSave: { file, snapshotAt, durationMs: Date.now() - snapshotAt } }, () => undefined);
      if (typeof callback === 'function') callback(error);
      else if (error) throw error;
    });
  };
}
`;

const saveMessageSchema = z.object({
  convoyAzuriteSave: z.object({ file: z.string(), snapshotAt: z.number(), durationMs: z.number() }),
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('Could not obtain a free port.'));
      });
    });
  });
}

interface AzuritePorts {
  blobPort: number;
  queuePort: number;
  tablePort: number;
}

/**
 * Starts Azurite (blob + queue + table; in memory unless `location`) as a child process by running its
 * JS entry with node directly, so killing it leaves no orphan behind an npx wrapper, and with an IPC
 * channel its preload watches, so it also stops when this process is killed -9.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteHandle> {
  const ports: AzuritePorts = {
    blobPort: options.blobPort ?? (await freePort()),
    queuePort: options.queuePort ?? (await freePort()),
    tablePort: options.tablePort ?? (await freePort()),
  };
  const workspace = mkdtempSync(join(tmpdir(), 'convoy-azurite-'));
  if (options.location !== undefined) mkdirSync(options.location, { recursive: true });
  // Own process group: Ctrl-C in a terminal must reach us first, so we can drain before Azurite stops.
  const child: ChildProcess = spawn(process.execPath, azuriteArgs(options, ports, workspace), {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    cwd: workspace,
    detached: true,
  });
  const exit = watchExit(child);
  const onSave = options.onSave;
  if (onSave !== undefined) {
    child.on('message', (message: unknown) => {
      const parsed = saveMessageSchema.safeParse(message);
      if (parsed.success) onSave(parsed.data.convoyAzuriteSave);
    });
  }
  // The channel is the parent-death signal and the save reports; it must not keep this process alive.
  child.channel?.unref();
  child.on('error', () => undefined);
  try {
    await untilReady(child, options.verbose === true);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(workspace, { recursive: true, force: true });
    throw error;
  }
  return handleFor(child, exit, ports, workspace, options.location);
}

/** Node's arguments: the preloads (parent watch; the save reporter when on disk), Azurite's entry and flags. */
function azuriteArgs(options: AzuriteOptions, ports: AzuritePorts, workspace: string): string[] {
  const preload = (name: string, source: string): string[] => {
    const file = join(workspace, name);
    writeFileSync(file, source);
    return ['--require', file];
  };
  const service = (name: string, port: number): string[] => [
    `--${name}Host`,
    '127.0.0.1',
    `--${name}Port`,
    String(port),
  ];
  return [
    ...preload('parent-watch.cjs', parentWatch),
    // Saves happen only on disk: in memory, the reporter is not written or loaded.
    ...(options.location === undefined ? [] : preload('save-reporter.cjs', saveReporter)),
    require.resolve('azurite/dist/src/azurite.js'),
    ...(options.location === undefined ? ['--inMemoryPersistence'] : ['--location', options.location]),
    '--skipApiVersionCheck',
    '--disableTelemetry',
    '--loose',
    '--silent',
    ...service('blob', ports.blobPort),
    ...service('queue', ports.queuePort),
    ...service('table', ports.tablePort),
  ];
}

/** The child's exit, and whether close() asked for it. */
function watchExit(child: ChildProcess): { exited: Promise<AzuriteExit>; expect(): void } {
  let closing = false;
  const exited = new Promise<AzuriteExit>((resolveExit) => {
    child.once('exit', (code, signal) => {
      resolveExit({ code, signal, expected: closing });
    });
  });
  return {
    exited,
    expect: () => {
      closing = true;
    },
  };
}

/** Resolves when Azurite says its table service listens; rejects if it exits first or takes over 30 s. */
function untilReady(child: ChildProcess, verbose: boolean): Promise<void> {
  let output = '';
  return new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (verbose) process.stderr.write(chunk);
      if (/Table service is successfully listening/.test(output)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      reject(new Error(`Azurite exited with code ${String(code)} before it was ready:\n${output}`));
    });
    setTimeout(() => {
      reject(new Error(`Azurite was not ready within 30 s:\n${output}`));
    }, 30_000).unref();
  });
}

function handleFor(
  child: ChildProcess,
  exit: ReturnType<typeof watchExit>,
  ports: AzuritePorts,
  workspace: string,
  location: string | undefined,
): AzuriteHandle {
  const host = '127.0.0.1';
  const tableEndpoint = `http://${host}:${String(ports.tablePort)}/${devAccountName}`;
  const connectionString = [
    'DefaultEndpointsProtocol=http',
    `AccountName=${devAccountName}`,
    `AccountKey=${devAccountKey}`,
    `BlobEndpoint=http://${host}:${String(ports.blobPort)}/${devAccountName}`,
    `QueueEndpoint=http://${host}:${String(ports.queuePort)}/${devAccountName}`,
    `TableEndpoint=${tableEndpoint}`,
  ].join(';');
  // Detached children outlive a crashed parent unless told otherwise.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    exit.expect();
    closed ??= new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve();
        return;
      }
      child.once('exit', () => {
        resolve();
      });
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    }).finally(() => {
      process.removeListener('exit', killOnExit);
      rmSync(workspace, { recursive: true, force: true });
    });
    return closed;
  };
  return { connectionString, tableEndpoint, ...ports, pid: child.pid ?? -1, location, exited: exit.exited, close };
}
