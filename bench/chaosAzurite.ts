/**
 * `npm run chaos:azurite -- [--baskets 200] [--items 3] [--kill-at 0.25] [--timeout-s 300] [--verbose]`:
 * `npm start -- --data-dir <tmp>` as a child, the baskets published, and Azurite alone killed with
 * SIGKILL once `--kill-at` of the events were processed. Then every basket must end Fulfilled or
 * Backordered with its events applied in order, nothing parked or rejected, and the stock of each SKU
 * must match the Fulfilled baskets. Prints what the stack said about Azurite, the verdict and what a
 * save of Azurite's table file costs (what saving on every write would cost instead). Exit 1 on a violation.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { azuriteTableDbFile, freePort } from '@convoy/dev-stack';
import { planRun, runPrefix } from '../test/harness/baskets';
import { publishBaskets, waitForOrders, finalStatuses, type OrderView } from '../test/harness/convoyClient';
import { convoyViolations, stockViolations } from '../test/harness/endState';

const root = resolve(__dirname, '..');
const defaultStock = 1000;

function number(value: string | undefined, fallback: number, flag: string): number {
  const parsed = value === undefined ? fallback : Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new Error(`${flag} must be a positive number, got "${String(value)}".`);
  return parsed;
}

/** npm start as a child: its lines collected, a wait for the first line matching a pattern. */
function startConvoy(dataDir: string, port: number, verbose: boolean) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'packages/dev-stack/src/start.ts', '--data-dir', dataDir, '--port', String(port)],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  const waiters: { matches: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let rest = '';
  const onData = (chunk: Buffer): void => {
    rest += chunk.toString();
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (verbose) console.log(`  | ${line}`);
      for (const waiter of [...waiters]) {
        if (!waiter.matches(line)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', resolveExit));
  /** The first line from now on that `matches` accepts. */
  const waitFor = (what: string, matches: (line: string) => boolean, timeoutMs: number): Promise<string> =>
    Promise.race([
      new Promise<string>((resolveLine) => waiters.push({ matches, resolve: resolveLine })),
      sleep(timeoutMs).then(() => {
        throw new Error(`npm start did not print ${what} within ${String(timeoutMs)} ms`);
      }),
      exited.then((code) => {
        throw new Error(`npm start exited (${String(code)}) before printing ${what}:\n${lines.join('\n')}`);
      }),
    ]);
  return { child, lines, waitFor, exited };
}

/** What saving Azurite's table file on every write would cost: one serialisation + write of it now. */
function saveCost(dataDir: string): string {
  const file = join(dataDir, 'azurite', azuriteTableDbFile);
  const text = readFileSync(file, 'utf8');
  const started = process.hrtime.bigint();
  const copy = JSON.stringify(JSON.parse(text));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return `${(statSync(file).size / 1e6).toFixed(2)} MB table file; parse + serialise ${ms.toFixed(0)} ms (${String(copy.length)} chars) — the whole file is rewritten on each save`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      baskets: { type: 'string' },
      items: { type: 'string' },
      'kill-at': { type: 'string' },
      'timeout-s': { type: 'string' },
      verbose: { type: 'boolean' },
    },
  });
  const baskets = number(values.baskets, 200, '--baskets');
  const items = number(values.items, 3, '--items');
  const killAt = number(values['kill-at'], 0.25, '--kill-at');
  const timeoutMs = number(values['timeout-s'], 300, '--timeout-s') * 1000;
  const dataDir = mkdtempSync(join(tmpdir(), 'convoy-chaos-'));
  const convoy = startConvoy(dataDir, await freePort(), values.verbose === true);
  let verdict = 1;
  try {
    const ready = await convoy.waitFor('"convoy is ready"', (line) => line.startsWith('convoy is ready'), 120_000);
    const baseUrl = (/(http:\/\/[^/]+)\//.exec(ready)?.[1] ?? '').replace('localhost', '127.0.0.1');
    const azuritePid = Number(convoy.lines.join('\n').match(/Azurite \(tables\).*\(pid (\d+)\)/)?.[1]);
    const plan = planRun(runPrefix('chaos'), baskets, items);
    const totalEvents = [...plan.published.values()].reduce((n, e) => n + e + 1, 0);
    await publishBaskets(baseUrl, plan.request);
    console.log(
      `published ${String(baskets)} baskets (${String(totalEvents)} events with fulfillment's InventoryUpdated); data in ${dataDir}`,
    );
    const threshold = Math.ceil(totalEvents * killAt);
    const processed = (line: string): number => Number(/messages processed (\d+)/.exec(line)?.[1] ?? 0);
    await convoy.waitFor(`${String(threshold)} messages processed`, (line) => processed(line) >= threshold, timeoutMs);
    const killedAt = Date.now();
    process.kill(azuritePid, 'SIGKILL');
    console.log(`kill -9 Azurite (pid ${String(azuritePid)}) after ≥ ${String(threshold)} messages processed`);
    await convoy.waitFor('"Azurite is back"', (line) => line.startsWith('Azurite is back'), 60_000);
    const orders = await waitForOrders(
      baseUrl,
      [...plan.published.keys()],
      (order: OrderView | undefined) => order !== undefined && finalStatuses.has(order.status),
      timeoutMs,
    ).catch(async (error: unknown) => {
      console.log(String(error));
      return waitForOrders(baseUrl, [...plan.published.keys()], () => true, 60_000);
    });
    const settledS = ((Date.now() - killedAt) / 1000).toFixed(1);
    const order = convoyViolations(orders, plan.published);
    const stock = await stockViolations(baseUrl, plan, orders, defaultStock);
    const statuses = new Map<string, number>();
    for (const view of orders.values())
      statuses.set(view?.status ?? '404', (statuses.get(view?.status ?? '404') ?? 0) + 1);
    const duplicates = [...orders.values()].reduce((n, view) => n + (view?.duplicates.length ?? 0), 0);
    console.log('\nwhat npm start said about Azurite:');
    for (const line of convoy.lines.filter((l) =>
      /Azurite \(pid|Azurite is back|gave back|could not be restarted/.test(l),
    ))
      console.log(`  ${line}`);
    console.log(
      `\nbaskets: ${[...statuses].map(([status, n]) => `${status} ${String(n)}`).join(', ')} (all settled ${settledS} s after the kill)`,
    );
    console.log(`duplicates recorded (events given back that Azurite had kept): ${String(duplicates)}`);
    console.log(
      `stock: ${stock.stock.map((s) => `${s.sku} sold ${String(s.sold)} available ${String(s.available)} reserved ${String(s.reserved)}`).join('; ')}`,
    );
    const violations = [...order, ...stock.violations];
    for (const line of violations.slice(0, 20)) console.log(`  VIOLATION ${line}`);
    console.log(`Azurite save cost now: ${saveCost(dataDir)}`);
    verdict = violations.length === 0 ? 0 : 1;
    console.log(
      verdict === 0
        ? `PASS: ${String(baskets)} baskets terminal, applied in order, stock consistent after kill -9 of Azurite`
        : `FAIL: ${String(violations.length)} violation(s)`,
    );
  } finally {
    convoy.child.kill('SIGINT');
    await Promise.race([convoy.exited, sleep(30_000)]);
    convoy.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(verdict);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
