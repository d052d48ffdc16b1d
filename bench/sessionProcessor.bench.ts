import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { parseTimeSpan } from '@convoy/functions-host';
import { startEmulator } from '@convoy/servicebus-emulator';
import { runPrefix } from '../test/harness/baskets';
import { cpuDelta, cpuSnapshot } from './lib/cpu';
import { readRepoHostJson } from './lib/hostJson';
import { publishDirect } from '../test/harness/publishDirect';
import { runScenario, warmupSettleMs } from './lib/scenario';
import { orderEventsQueue } from '../test/harness/stack';

/**
 * npm run bench:processor [-- --sessions 64,128,256 --events 5 --repeats 1 --warmup 0]
 * The same burst (S sessions × E bare messages, published in one go) drained twice with a null
 * handler and the repository's host.json: by the local host (bench/lib/nullApp) and by the .NET
 * ServiceBusSessionProcessor (bench/dotnet/ProcessorDrain). Both read the emulator in this
 * process; drain = first publish call → last handler of the burst returned. Prints both and the
 * ratio localHost/processor (issue 8 target ≤ 1.2), writes bench/results/processor.md.
 * `--reference js-sdk` or `--reference rhea` replaces the processor with a Node consumer from
 * bench/lib/referenceConsumers (the JS SDK without the host; sessions straight on rhea), to see
 * where the host's drain comes from; those runs are printed, not written.
 */

const usage =
  'Usage: tsx bench/sessionProcessor.bench.ts [--sessions 64,128,256] [--events 5] [--repeats 1] [--warmup 0] [--reference dotnet|js-sdk|rhea] [--no-write]';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '64,128,256' },
    events: { type: 'string', default: '5' },
    repeats: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '0' },
    reference: { type: 'string', default: 'dotnet' },
    timeout: { type: 'string', default: '600' },
    'no-write': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

function positiveInt(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number ≥ 1, got "${text}"`);
  return value;
}

const projectDir = join(__dirname, 'dotnet', 'ProcessorDrain');
const processorDll = join(projectDir, 'bin', 'Release', 'net10.0', 'ProcessorDrain.dll');

/** The consumer the local host is measured against, and how to start it with ProcessorDrain's arguments. */
const references = {
  dotnet: { label: 'processor', command: (): [string, string[]] => ['dotnet', [processorDll]] },
  'js-sdk': { label: 'jsSdk', command: (): [string, string[]] => nodeConsumer('jsSdkDrain.ts') },
  rhea: { label: 'rhea', command: (): [string, string[]] => nodeConsumer('rheaDrain.ts') },
} as const;
type ReferenceName = keyof typeof references;

function nodeConsumer(file: string): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', join(__dirname, 'lib', 'referenceConsumers', file)]];
}

function referenceOf(name: string): ReferenceName {
  if (Object.hasOwn(references, name)) return name as ReferenceName;
  throw new Error(`--reference must be one of ${Object.keys(references).join(', ')}, got "${name}"`);
}
const reference = referenceOf(values.reference);
const consumerName = reference === 'dotnet' ? 'ProcessorDrain' : `the ${reference} reference consumer`;

function buildProcessor(): void {
  const build = spawnSync('dotnet', ['build', projectDir, '-c', 'Release', '--nologo', '-v', 'q'], {
    encoding: 'utf8',
  });
  if (build.status !== 0)
    throw new Error(
      `dotnet build ${projectDir} failed (exit ${String(build.status)}):\n${build.stdout}${build.stderr}`,
    );
}

interface ProcessorResult {
  drained: boolean;
  sessionsFinished: number;
  lastEndUnixMs: number;
  calls: number;
  orderViolations: number;
  overlaps: number;
  errors: number;
  sessionsAccepted: number;
  cpuMs: number;
}

interface Run {
  drainMs: number;
  calls: number;
  violations: number;
  sessionsPerBasket: number;
  /** CPU ms per handled message over publish + drain: the consumer process, and this process (emulator + publisher). */
  consumerCpuPerCall: number;
  emulatorCpuPerCall: number;
}

/** One processor run on a fresh emulator: start it, wait for ready, publish the burst, read its result. */
async function runProcessor({ sessions, events, warmup, settings, timeoutS }: RunSpec): Promise<Run> {
  const { hostJsonPath } = settings;
  const idleMs = settings.sessionIdleTimeoutMs ?? 0;
  const emulator = await startEmulator();
  try {
    const [command, commandArgs] = references[reference].command();
    const child = spawn(
      command,
      [
        ...commandArgs,
        ...['--connection', emulator.connectionString, '--queue', orderEventsQueue, '--host-json', hostJsonPath],
        ...['--sessions', String(sessions), '--events', String(events), '--bursts', String(warmup + 1)],
        ...['--timeout', String(timeoutS)],
      ],
      { stdio: ['ignore', 'pipe', values.verbose ? 'inherit' : 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    if (child.stdout === null) throw new Error(`${consumerName} has no stdout pipe.`);
    const lines = createInterface({ input: child.stdout });
    const iterator = lines[Symbol.asyncIterator]();
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const nextJson = async (what: string): Promise<Record<string, unknown>> => {
      const next = await Promise.race([iterator.next(), exited.then(() => undefined)]);
      if (next === undefined || next.done === true)
        throw new Error(`${consumerName} exited before "${what}" (exit ${String(await exited)}):\n${stderr}`);
      return JSON.parse(next.value) as Record<string, unknown>;
    };
    await nextJson('ready');
    const burstIds = (tag: string): string[] =>
      Array.from({ length: sessions }, (_, i) => `${runPrefix(tag)}-${String(i + 1)}`);
    for (let w = 0; w < warmup; w++) {
      await publishDirect(emulator.connectionString, burstIds('procwarm'), events);
      const warm = (await nextJson('warm-up result')) as unknown as ProcessorResult;
      if (!warm.drained) throw new Error(`${consumerName} did not drain warm-up burst ${String(w + 1)}:\n${stderr}`);
      await sleep(idleMs + warmupSettleMs);
    }
    const ids = burstIds('proc');
    const cpuBefore = cpuSnapshot(child.pid ?? 0);
    const startedAt = performance.timeOrigin + performance.now();
    await publishDirect(emulator.connectionString, ids, events);
    const result = (await nextJson('result')) as unknown as ProcessorResult;
    const cpu = cpuDelta(cpuBefore, cpuSnapshot(child.pid ?? 0));
    await exited;
    if (!result.drained)
      throw new Error(
        `${consumerName} drained ${String(result.sessionsFinished)} of ${String(sessions)} sessions:\n${stderr}`,
      );
    return {
      drainMs: result.lastEndUnixMs - startedAt,
      calls: result.calls,
      violations: result.orderViolations + result.overlaps,
      sessionsPerBasket: result.sessionsAccepted / sessions,
      consumerCpuPerCall: cpu.hostMs / result.calls,
      emulatorCpuPerCall: cpu.emulatorMs / result.calls,
    };
  } finally {
    await emulator.close();
  }
}

async function runHost({ sessions, events, warmup, settings, timeoutS }: RunSpec): Promise<Run> {
  const result = await runScenario({
    mode: 'null',
    baskets: sessions,
    eventsPerBasket: events,
    handlerCostMs: 0,
    maxConcurrentSessions: settings.maxConcurrentSessions,
    sessionIdleTimeoutMs: settings.sessionIdleTimeoutMs,
    timeoutMs: timeoutS * 1000,
    verbose: values.verbose,
    warmupBursts: warmup,
  });
  return {
    drainMs: result.drainMs,
    calls: result.breakdown.invocations,
    violations: result.orderingViolations,
    sessionsPerBasket: result.breakdown.sessionsPerBasket,
    consumerCpuPerCall: result.breakdown.cpuPerCall.hostMs,
    emulatorCpuPerCall: result.breakdown.cpuPerCall.emulatorMs,
  };
}

/** One run's shape, the same for both consumers. */
interface RunSpec {
  sessions: number;
  events: number;
  warmup: number;
  settings: Settings;
  timeoutS: number;
}

/** host.json's session settings, read once per bench, and the copy handed to the .NET processor. */
interface Settings {
  hostJsonPath: string;
  maxConcurrentSessions: number;
  sessionIdleTimeoutMs: number | undefined;
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
};

interface Row {
  sessions: number;
  host: Run[];
  processor: Run[];
  ratio: number;
  /** Best run against best run: on a shared machine the least disturbed runs. */
  bestRatio: number;
}

async function main(): Promise<void> {
  if (values.help) {
    console.log(usage);
    return;
  }
  const sessionCounts = values.sessions.split(',').map((s) => positiveInt('sessions', s.trim()));
  const events = positiveInt('events', values.events);
  const repeats = positiveInt('repeats', values.repeats);
  const timeoutS = positiveInt('timeout', values.timeout);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(warmup) || warmup < 0)
    throw new Error(`--warmup must be a whole number ≥ 0, got "${values.warmup}"`);
  if (events < 4) throw new Error('--events must be at least 4 (the null scenario publishes E per basket, E ≥ 4).');

  if (reference === 'dotnet') buildProcessor();
  const dir = mkdtempSync(join(tmpdir(), 'convoy-processor-'));
  const hostJson = readRepoHostJson();
  const hostJsonPath = join(dir, 'host.json');
  writeFileSync(hostJsonPath, JSON.stringify(hostJson));
  const sb = hostJson.extensions.serviceBus as Record<string, unknown>;
  const settings: Settings = {
    hostJsonPath,
    maxConcurrentSessions: typeof sb.maxConcurrentSessions === 'number' ? sb.maxConcurrentSessions : 16,
    sessionIdleTimeoutMs: typeof sb.sessionIdleTimeout === 'string' ? parseTimeSpan(sb.sessionIdleTimeout) : undefined,
  };
  const settingsLine = `host.json serviceBus: maxConcurrentSessions ${String(sb.maxConcurrentSessions)}, maxConcurrentCallsPerSession ${String(sb.maxConcurrentCallsPerSession)}, sessionIdleTimeout ${String(sb.sessionIdleTimeout)}, prefetchCount ${String(sb.prefetchCount)}, autoCompleteMessages ${String(sb.autoCompleteMessages)}`;
  console.log(
    `processor bench: S=${sessionCounts.join('/')} E=${String(events)} repeats=${String(repeats)} warm-up bursts=${String(warmup)} reference=${reference}; ${settingsLine}`,
  );

  const { label } = references[reference];
  const rows: Row[] = [];
  try {
    for (const sessions of sessionCounts) {
      const host: Run[] = [];
      const processor: Run[] = [];
      // Alternate, so drift on the shared machine hits both sides alike.
      for (let i = 0; i < repeats; i++) {
        const spec: RunSpec = { sessions, events, warmup, settings, timeoutS };
        host.push(await runHost(spec));
        processor.push(await runProcessor(spec));
      }
      const ratio = median(host.map((r) => r.drainMs)) / median(processor.map((r) => r.drainMs));
      const bestRatio = Math.min(...host.map((r) => r.drainMs)) / Math.min(...processor.map((r) => r.drainMs));
      rows.push({ sessions, host, processor, ratio, bestRatio });
      console.log(
        `S=${String(sessions)} E=${String(events)}  localHost=${fmt(host)} (${each(host)})  ${label}=${fmt(processor)} (${each(processor)})  ratio localHost/${label}=${ratio.toFixed(2)} (best runs ${bestRatio.toFixed(2)})  violations host ${String(sum(host, 'violations'))} · ${label} ${String(sum(processor, 'violations'))}  CPU/call consumer ${cpuMs(host, 'consumerCpuPerCall')} · ${cpuMs(processor, 'consumerCpuPerCall')}, emulator ${cpuMs(host, 'emulatorCpuPerCall')} · ${cpuMs(processor, 'emulatorCpuPerCall')}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const violations = rows.reduce((n, r) => n + sum(r.host, 'violations') + sum(r.processor, 'violations'), 0);
  if (reference !== 'dotnet') console.log(`not written to bench/results: --reference ${reference}`);
  else if (!values['no-write']) {
    const out = join(__dirname, 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'processor.md'), report(rows, events, repeats, warmup, settingsLine));
    console.log(`wrote ${join(out, 'processor.md')}`);
  }
  if (violations > 0) {
    console.error(`${String(violations)} ordering violation(s) or same-session overlaps.`);
    process.exitCode = 1;
  }
}

const fmt = (runs: Run[]): string => `${(median(runs.map((r) => r.drainMs)) / 1000).toFixed(2)} s`;
const cpuMs = (runs: Run[], key: 'consumerCpuPerCall' | 'emulatorCpuPerCall'): string =>
  `${median(runs.map((r) => r[key])).toFixed(2)} ms`;
/** Every run, so the spread on a shared machine is visible next to the median. */
const each = (runs: Run[]): string => runs.map((r) => (r.drainMs / 1000).toFixed(2)).join(' / ');
const sum = (runs: Run[], key: 'violations' | 'calls'): number => runs.reduce((n, r) => n + r[key], 0);

function report(rows: Row[], events: number, repeats: number, warmup: number, settingsLine: string): string {
  const command = `npm run bench:processor -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, '');
  const lines = [
    '# Drain of a null workload: local host vs ServiceBusSessionProcessor',
    '',
    `Command: \`${command}\` · ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · ${String(cpus().length)} cores (shared), ${String(Math.round(totalmem() / 2 ** 30))} GiB, Node ${process.version}`,
    '',
    `Same emulator build (in the bench process, fresh per run), same burst (S sessions × E=${String(events)} messages, one publish), ${settingsLine}.`,
    'Local host: bench/lib/nullApp in the local host process. Processor: bench/dotnet/ProcessorDrain',
    '(Azure.Messaging.ServiceBus 7.21.0, options from the same host.json, complete after the handler).',
    `Drain: first publish call → last handler of the burst returned; median of ${String(repeats)} run(s) each.`,
    warmup === 0
      ? 'Each run is the first burst of a fresh consumer process (cold: JIT warm-up included).'
      : `Each run is measured on a consumer process that first drained ${String(warmup)} warm-up burst(s) of the same shape (new session ids), as a long-running host would have; the CPU and session columns count the measured burst only.`,
    '',
    '| S | local host drain | processor drain | ratio localHost/processor | best run vs best run | runs host (s) | runs processor (s) | CPU/call consumer host · processor | CPU/call emulator+publisher (host run · processor run) | calls host · processor (all runs) | sessions accepted/basket host · processor | violations |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${String(r.sessions)} | ${fmt(r.host)} | ${fmt(r.processor)} | ${r.ratio.toFixed(2)} | ${r.bestRatio.toFixed(2)} | ${each(r.host)} | ${each(r.processor)} | ${cpuMs(r.host, 'consumerCpuPerCall')} · ${cpuMs(r.processor, 'consumerCpuPerCall')} | ${cpuMs(r.host, 'emulatorCpuPerCall')} · ${cpuMs(r.processor, 'emulatorCpuPerCall')} | ${String(sum(r.host, 'calls'))} · ${String(sum(r.processor, 'calls'))} | ${median(r.host.map((x) => x.sessionsPerBasket)).toFixed(2)} · ${median(r.processor.map((x) => x.sessionsPerBasket)).toFixed(2)} | ${String(sum(r.host, 'violations') + sum(r.processor, 'violations'))} |`,
    ),
    '',
    'Issue 8 target: ratio ≤ 1.2.',
    '',
  ];
  return lines.join('\n');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
