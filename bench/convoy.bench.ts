import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeIdle } from './lib/hostJson';
import { markdown, printRow, sideBySide, svgChart } from './lib/report';
import { isBaseline, runScenario, type AppMode, type ScenarioResult } from './lib/scenario';
import { runStall, type StallResult } from './lib/stall';

/**
 * npm run bench:convoy [-- --baskets 1000 --events 5 --cost 5 --sessions 16,32 --idle 50,100,500]
 * Sweeps maxConcurrentSessions × sessionIdleTimeout over the whole local stack (emulator, Azurite,
 * local host with the built app), then writes bench/results/convoy.md and convoy.svg.
 * --quick: 200 baskets, one setting, nothing written. See docs/tuning.md.
 */

const usage = `Usage: tsx bench/convoy.bench.ts [--quick] [--baskets S] [--events E] [--cost P_ms]
       [--sessions 16,32] [--idle 50,100,500|unset] [--modes convoy,null,null-save] [--no-check] [--no-stall] [--no-write] [--publish-through-app] [--verbose]`;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    baskets: { type: 'string' },
    events: { type: 'string' },
    cost: { type: 'string' },
    sessions: { type: 'string' },
    idle: { type: 'string' },
    modes: { type: 'string' },
    'no-stall': { type: 'boolean', default: false },
    'no-check': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    'publish-through-app': { type: 'boolean', default: false },
    timeout: { type: 'string', default: '600' },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number ≥ 0, got "${text}"`);
  return value;
}

function list<T>(name: string, text: string | undefined, fallback: T[], parse: (item: string) => T): T[] {
  if (text === undefined) return fallback;
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new Error(`--${name} needs at least one value`);
  return items.map(parse);
}

const idleValue = (item: string): number | undefined => (item === 'unset' ? undefined : positiveInt('idle', item, 0));
const modeValue = (item: string): AppMode => {
  if (item === 'convoy' || item === 'app') return 'app';
  if (item === 'null' || item === 'null-save') return item;
  throw new Error(`--modes takes convoy, null and/or null-save, got "${item}"`);
};

async function main(): Promise<void> {
  if (values.help) {
    console.log(usage);
    return;
  }
  const quick = values.quick;
  const baskets = positiveInt('baskets', values.baskets, quick ? 200 : 1000);
  const eventsPerBasket = positiveInt('events', values.events, 5);
  const handlerCostMs = positiveInt('cost', values.cost, 5);
  const sessions = list('sessions', values.sessions, quick ? [16] : [16, 32], (s) => positiveInt('sessions', s, 16));
  const idles = list('idle', values.idle, quick ? [50] : [50, 100, 500], idleValue);
  const modes = list<AppMode>('modes', values.modes, quick ? ['app'] : ['app', 'null'], modeValue);
  const timeoutMs = positiveInt('timeout', values.timeout, 600) * 1000;
  const stall = !quick && !values['no-stall'];
  const write = !quick && !values['no-write'];

  console.log(
    `convoy bench: S=${String(baskets)} E=${String(eventsPerBasket)} P=${String(handlerCostMs)} ms, sessions ${sessions.join('/')}, idle ${idles.map(describeIdle).join('/')}, modes ${modes.join('/')}`,
  );
  const rows: ScenarioResult[] = [];
  for (const mode of modes) {
    // The null apps answer "what does the host (and one save) cost": one idle value is enough for that.
    for (const sessionIdleTimeoutMs of isBaseline(mode) ? idles.slice(0, 1) : idles) {
      for (const maxConcurrentSessions of sessions) {
        const result = await runScenario({
          mode,
          baskets,
          eventsPerBasket,
          handlerCostMs,
          maxConcurrentSessions,
          sessionIdleTimeoutMs,
          timeoutMs,
          verbose: values.verbose,
          publishThroughApp: values['publish-through-app'],
        });
        printRow(result);
        rows.push(result);
      }
    }
  }
  for (const line of sideBySide(rows)) console.log(line);
  // Scheduling check: P large next to the per-event CPU overhead, so the bound is reachable.
  const checks: ScenarioResult[] = [];
  if (!quick && !values['no-check']) {
    for (const mode of modes) {
      const result = await runScenario({
        mode,
        baskets: 64,
        eventsPerBasket,
        handlerCostMs: 100,
        maxConcurrentSessions: 16,
        sessionIdleTimeoutMs: idles[0],
        timeoutMs,
        verbose: values.verbose,
      });
      printRow(result);
      checks.push(result);
    }
  }
  const stalls: StallResult[] = [];
  if (stall) {
    for (const idle of [undefined, idles[0]]) {
      const result = await runStall(idle);
      console.log(
        `stall scenario: sessionIdleTimeout ${describeIdle(idle)} → all ${String(result.baskets)} orders final after ${(result.allDoneMs / 1000).toFixed(1)} s`,
      );
      stalls.push(result);
    }
  }

  const violations = [...rows, ...checks].reduce((sum, r) => sum + r.orderingViolations, 0);
  if (write) {
    const dir = join(__dirname, 'results');
    mkdirSync(dir, { recursive: true });
    const info = {
      command: `npm run bench:convoy -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, ''),
      baskets,
      eventsPerBasket,
      handlerCostMs,
      date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
      machine: `${String(cpus().length)} cores (shared), ${String(Math.round(totalmem() / 2 ** 30))} GiB, Node ${process.version}`,
    };
    writeFileSync(join(dir, 'convoy.md'), markdown(info, rows, stalls, checks));
    writeFileSync(
      join(dir, 'convoy.svg'),
      svgChart(rows, `Convoy drain: S=${String(baskets)}, E=${String(eventsPerBasket)}, P=${String(handlerCostMs)} ms`),
    );
    // The raw rows, so the table and chart can be redrawn or compared without rerunning.
    writeFileSync(join(dir, 'convoy.json'), `${JSON.stringify({ info, rows, checks, stalls }, null, 2)}\n`);
    console.log(`wrote ${join(dir, 'convoy.md')}, convoy.svg and convoy.json`);
  }
  if (violations > 0) {
    console.error(`${String(violations)} ordering violation(s): the convoy broke its order.`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
