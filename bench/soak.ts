import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { failures, table } from '../test/harness/soak/report';
import { runSoak } from '../test/harness/soak/run';

/**
 * npm run soak [-- --baskets 10000 --seed 1 --outage 45 --timeout 1800]
 * The fault soak (issue 9): baskets through the multi-process stack under a seeded fault schedule,
 * then every basket and every message accounted for. Writes bench/results/soak.md; exits 1 when
 * anything was lost, applied twice, out of order or stuck. Not run in CI (test/e2e/soak.e2e.test.ts
 * is the short version).
 */

const usage = `Usage: npm run soak -- [--baskets N] [--seed S] [--outage seconds] [--lock seconds]
       [--kills K] [--stops K] [--outages K] [--emulator-restarts K] [--timeout seconds] [--no-write] [--verbose]`;

const { values } = parseArgs({
  options: {
    baskets: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    outage: { type: 'string', default: '45' },
    lock: { type: 'string', default: '30' },
    kills: { type: 'string', default: '3' },
    stops: { type: 'string', default: '2' },
    outages: { type: 'string', default: '2' },
    'emulator-restarts': { type: 'string', default: '1' },
    timeout: { type: 'string', default: '1800' },
    'no-write': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

function whole(name: string, text: string, min = 0): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`--${name} must be a whole number ≥ ${String(min)}, got "${text}"`);
  return value;
}

async function main(): Promise<void> {
  if (values.help) {
    console.log(usage);
    return;
  }
  const baskets = whole('baskets', values.baskets, 1);
  const timeoutMs = whole('timeout', values.timeout, 60) * 1000;
  // The bound holds even if a call never answers: two minutes past the run's own deadline, give up.
  setTimeout(() => {
    console.error(`FAIL: the soak did not end within ${String(timeoutMs / 1000 + 120)} s.`);
    process.exit(1);
  }, timeoutMs + 120_000).unref();
  const result = await runSoak({
    baskets,
    seed: whole('seed', values.seed),
    hostKills: whole('kills', values.kills),
    hostStops: whole('stops', values.stops),
    storageOutages: whole('outages', values.outages),
    emulatorRestarts: whole('emulator-restarts', values['emulator-restarts']),
    emulatorDownMs: 5_000,
    outageMs: whole('outage', values.outage) * 1000,
    lockDurationMs: whole('lock', values.lock, 5) * 1000,
    handlerExceptions: Math.max(2, Math.round(baskets / 100)),
    duplicates: Math.max(2, Math.round(baskets / 50)),
    poison: Math.max(3, Math.round(baskets / 100)),
    faultGapMs: 60_000,
    quietMs: 45_000,
    timeoutMs,
    verbose: values.verbose,
    log: (line) => {
      console.log(line);
    },
  });
  const rendered = table(result);
  const failed = failures(result);
  console.log(`\n${rendered}\n`);
  for (const problem of result.problems) console.log(`  ${problem}`);
  const verdict =
    failed.length === 0 ? 'PASS: 0 lost, 0 applied twice, 0 out of order, 0 stuck.' : `FAIL: ${failed.join(', ')}.`;
  console.log(verdict);
  if (!values['no-write']) {
    const command = `npm run soak -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, '');
    const file = join(__dirname, 'results', 'soak.md');
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(
      file,
      [
        '# Fault soak',
        '',
        `\`${command}\` (seed ${String(result.seed)}) — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${String(cpus().length)} cores (shared), ${String(Math.round(totalmem() / 2 ** 30))} GiB, Node ${process.version}.`,
        '',
        'Baskets (1-3 ItemAdded, BasketCheckedOut, PaymentMade; the fulfillment adds InventoryUpdated) published in waves straight to the emulator, interleaved, while the seeded schedule hits the host (its own process), storage (a TCP proxy in front of Azurite) and the producer. Then the soak reads GET /api/orders for every basket, GET /api/quarantine and GET /api/dead-letters, replays dead-lettered baskets (POST /api/dead-letters/{basketId}/replay) and accounts for every message. See README, "Fault soak".',
        '',
        rendered,
        '',
        'Faults, in order:',
        '',
        ...result.faultLog.map((line) => `- ${line}`),
        '',
        verdict,
        ...(result.problems.length > 0 ? ['', ...result.problems.map((p) => `- ${p}`)] : []),
        '',
      ].join('\n'),
    );
    console.log(`wrote ${file}`);
  }
  if (failed.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
