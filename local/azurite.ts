import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  close(): Promise<void>;
}

export interface AzuriteOptions {
  blobPort?: number;
  queuePort?: number;
  tablePort?: number;
  /** Print Azurite's own output (debugging). */
  verbose?: boolean;
}

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

/**
 * Starts Azurite (in memory, blob + queue + table) as a child process by running its JS entry with
 * node directly, so killing it leaves no orphan behind an npx wrapper.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteHandle> {
  const blobPort = options.blobPort ?? (await freePort());
  const queuePort = options.queuePort ?? (await freePort());
  const tablePort = options.tablePort ?? (await freePort());
  const workspace = mkdtempSync(join(tmpdir(), 'convoy-azurite-'));
  const entry = require.resolve('azurite/dist/src/azurite.js');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      entry,
      '--inMemoryPersistence',
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--loose',
      '--silent',
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(blobPort),
      '--queueHost',
      '127.0.0.1',
      '--queuePort',
      String(queuePort),
      '--tableHost',
      '127.0.0.1',
      '--tablePort',
      String(tablePort),
    ],
    // Own process group: Ctrl-C in a terminal must reach us first, so we can drain before Azurite stops.
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: workspace, detached: true },
  );

  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (options.verbose === true) process.stderr.write(chunk);
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
  try {
    await ready;
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(workspace, { recursive: true, force: true });
    throw error;
  }

  const host = '127.0.0.1';
  const tableEndpoint = `http://${host}:${tablePort}/${devAccountName}`;
  const connectionString = [
    'DefaultEndpointsProtocol=http',
    `AccountName=${devAccountName}`,
    `AccountKey=${devAccountKey}`,
    `BlobEndpoint=http://${host}:${blobPort}/${devAccountName}`,
    `QueueEndpoint=http://${host}:${queuePort}/${devAccountName}`,
    `TableEndpoint=${tableEndpoint}`,
  ].join(';');

  // Detached children outlive a crashed parent unless told otherwise.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let closed: Promise<void> | undefined;
  return {
    connectionString,
    tableEndpoint,
    blobPort,
    queuePort,
    tablePort,
    close() {
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
    },
  };
}
