import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TableClient } from '@azure/data-tables';
import { TableOrderStore } from '../src/adapters/tableOrderStore';
import { paidRecord } from './lib/orderRecords';

/**
 * npm run bench:table-request [-- --requests 3000 --concurrency 16]
 * What one order save costs the process that makes it: CPU per TableOrderStore.replace (the
 * convoy's one storage request per event: JSON columns, the Table SDK's pipeline, HTTP) against a
 * fresh in-memory Azurite, with as many saves in flight as the bench's sessions. Compare with the
 * empty handler's host CPU per call in bench:convoy (docs/tuning.md).
 */

const devKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at === -1 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number ≥ 1`);
  return value;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

async function main(): Promise<void> {
  const requests = argument('requests', 3000);
  const concurrency = argument('concurrency', 16);
  const port = await freePort();
  const azurite = spawn(
    process.execPath,
    [
      join(__dirname, '../node_modules/azurite/dist/src/table/main.js'),
      '--inMemoryPersistence',
      '--tablePort',
      String(port),
      '--silent',
    ],
    { stdio: 'ignore' },
  );
  try {
    const connection = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${devKey};TableEndpoint=http://127.0.0.1:${String(port)}/devstoreaccount1;`;
    const client = TableClient.fromConnectionString(connection, 'orders', { allowInsecureConnection: true });
    for (let attempt = 0; ; attempt++) {
      try {
        await client.createTable();
        break;
      } catch (error) {
        if (attempt > 50) throw error;
        await sleep(200);
      }
    }
    const store = new TableOrderStore(client);
    const baskets = Array.from({ length: concurrency * 4 }, (_, b) => paidRecord(`bench-${String(b)}`));
    for (const record of baskets) await store.create(record);
    let next = 0;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < requests) {
          const record = baskets[next++ % baskets.length];
          if (record === undefined) continue;
          // '*': unconditional, so two saves of one basket in flight never conflict here.
          await store.replace(record, '*');
        }
      }),
    );
    const cpu = process.cpuUsage(cpuBefore);
    const wallMs = performance.now() - started;
    console.log(
      `order saves=${String(requests)} concurrency=${String(concurrency)} CPU/save=${((cpu.user + cpu.system) / 1000 / requests).toFixed(3)} ms wall/save=${((wallMs * concurrency) / requests).toFixed(1)} ms`,
    );
  } finally {
    azurite.kill();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
