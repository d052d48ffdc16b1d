import { describeIdle } from './hostJson';
import type { AppMode, ScenarioResult } from './scenario';
import type { StallResult } from './stall';

/** The benchmark's printed rows, markdown table and SVG chart. */

const ms = (value: number): string =>
  Number.isNaN(value) ? '-' : value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(0)} ms`;
const num = (value: number, digits = 2): string => (Number.isNaN(value) ? '-' : value.toFixed(digits));

export const columns = [
  'app',
  'maxConcurrentSessions',
  'sessionIdleTimeout',
  'drain',
  'of which publish',
  'lower bound',
  'ratio',
  'p50 latency',
  'p99 latency',
  'ordering violations',
  'call mean',
  'gap in session',
  'slot use',
  'sessions/basket',
  'CPU/call host · emulator · Azurite',
  'storage/event: all = hot path (order read · write) + index + metrics + other',
  'durable calls/event (start · other)',
] as const;

/** The printed name of a mode (`app` is the convoy). */
export const modeName = (mode: AppMode): string => (mode === 'app' ? 'convoy' : mode);

export function rowCells(r: ScenarioResult): string[] {
  const b = r.breakdown;
  const e = b.perEvent;
  return [
    modeName(r.params.mode),
    String(r.params.maxConcurrentSessions),
    describeIdle(r.params.sessionIdleTimeoutMs),
    ms(r.drainMs),
    ms(r.publishMs),
    ms(r.lowerBoundMs),
    num(r.ratio),
    ms(r.latencyP50Ms),
    ms(r.latencyP99Ms),
    String(r.orderingViolations),
    ms(b.handlerMeanMs),
    ms(b.inSessionGapMeanMs),
    `${num(b.slotUtilization * 100, 0)} %`,
    num(b.sessionsPerBasket),
    `${num(b.cpuPerCall.hostMs, 1)} · ${num(b.cpuPerCall.emulatorMs, 1)} · ${num(b.cpuPerCall.azuriteMs, 1)} ms`,
    `${num(e.storageRoundTrips)} = ${num(e.hotPath)} (${num(e.orderReads)} · ${num(e.orderWrites)}) + ${num(e.indexWrites)} + ${num(e.metricsWrites)} + ${num(e.otherTable + e.otherStorage)}`,
    `${num(e.durableStarts)} · ${num(e.durableOther)}`,
  ];
}

/** In-flight index writes per basket: they come with a basket's transitions, not its events. */
function indexPerBasket(r: ScenarioResult): number {
  return (r.breakdown.perEvent.indexWrites * r.breakdown.perEvent.appliedEvents) / r.params.baskets;
}

const ratio = (a: number, b: number): string => `${num(a / b)}×`;

/** drain and host CPU/call of `a` ÷ `b`, measured in the same run. */
function ratios(a: ScenarioResult, b: ScenarioResult): string {
  return `drain ${ratio(a.drainMs, b.drainMs)}, host CPU/call ${ratio(a.breakdown.cpuPerCall.hostMs, b.breakdown.cpuPerCall.hostMs)}`;
}

/**
 * Convoy against the empty handler at the same maxConcurrentSessions, measured in the same run; with
 * a null-save row, the floor one order save per event puts under the convoy, and the convoy above it.
 */
export function sideBySide(rows: readonly ScenarioResult[]): string[] {
  const at = (mode: AppMode, sessions: number): ScenarioResult | undefined =>
    rows.find((r) => r.params.mode === mode && r.params.maxConcurrentSessions === sessions);
  const floors = rows
    .filter((r) => r.params.mode === 'null-save')
    .flatMap((save) => {
      const empty = at('null', save.params.maxConcurrentSessions);
      if (empty === undefined) return [];
      const host = (r: ScenarioResult): string =>
        `${num(r.breakdown.cpuPerCall.hostMs)} ms CPU/call, drain ${ms(r.drainMs)}`;
      return [
        `floor at ${String(save.params.maxConcurrentSessions)} sessions: null ${host(empty)}; null-save ${host(save)}, storage round trips/event ${num(save.breakdown.perEvent.storageRoundTrips)}; null-save / null: ${ratios(save, empty)}`,
      ];
    });
  const convoys = rows
    .filter((r) => r.params.mode === 'app')
    .flatMap((convoy) => {
      const empty = at('null', convoy.params.maxConcurrentSessions);
      const save = at('null-save', convoy.params.maxConcurrentSessions);
      const aboveFloor =
        save === undefined
          ? []
          : [
              `convoy (idle ${describeIdle(convoy.params.sessionIdleTimeoutMs)}) / null-save at ${String(convoy.params.maxConcurrentSessions)} sessions: ${ratios(convoy, save)} (convoy ${num(convoy.breakdown.cpuPerCall.hostMs)} ms CPU/call, drain ${ms(convoy.drainMs)})`,
            ];
      if (empty === undefined) return aboveFloor;
      return [
        `convoy (idle ${describeIdle(convoy.params.sessionIdleTimeoutMs)}) / null at ${String(convoy.params.maxConcurrentSessions)} sessions: ${ratios(convoy, empty)}, storage round trips/event on the hot path (order row) ${num(convoy.breakdown.perEvent.hotPath)}, all ${num(convoy.breakdown.perEvent.storageRoundTrips)} (in-flight index ${num(indexPerBasket(convoy))} per basket, metrics flushes ${num(convoy.breakdown.perEvent.metricsWrites)} per event), orchestration starts ${num(convoy.breakdown.perEvent.durableStarts)} per event`,
        ...aboveFloor,
      ];
    });
  return [...floors, ...convoys];
}

export function printRow(r: ScenarioResult): void {
  const cells = rowCells(r);
  console.log(columns.map((c, i) => `${c}=${cells[i] ?? ''}`).join('  '));
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export interface RunInfo {
  command: string;
  baskets: number;
  eventsPerBasket: number;
  handlerCostMs: number;
  date: string;
  machine: string;
}

export function markdown(
  info: RunInfo,
  rows: readonly ScenarioResult[],
  stalls: readonly StallResult[],
  checks: readonly ScenarioResult[] = [],
): string {
  const comparisons = sideBySide(rows);
  const parts = [
    `# Convoy benchmark`,
    ``,
    `\`${info.command}\` — ${info.date}, ${info.machine}.`,
    ``,
    `S = ${String(info.baskets)} baskets × E = ${String(info.eventsPerBasket)} events (E−3 ItemAdded, BasketCheckedOut, PaymentMade, and the InventoryUpdated the fulfillment publishes), handler cost P = ${String(info.handlerCostMs)} ms injected by a preInvocation hook. All events are published in one burst; drain = first publish → last event applied. Lower bound = max(E×P, S×E×P / maxConcurrentSessions); ratio = drain / lower bound. Latency = publish → applied per event. Ordering violations = baskets whose applied log is not exactly 1..E + out-of-sequence deliveries + overlapping calls of one session (must be 0). "convoy" is the built app (Azurite, durable fulfillment); "null" is the same trigger with an empty handler (bench/lib/nullApp), which leaves only the host, emulator and SDK; "null-save" adds exactly one order save per event through the app's TableOrderStore (bench/lib/nullSaveApp): the floor one storage write per event puts under the convoy.`,
    ``,
    ``,
    `Storage and durable calls are counted on the host process's wire: every HTTP request its Node http client starts (diagnostics channel \`http.client.request.start\`, test/harness/httpTally.ts), classified by table and verb, over publish + drain, divided by the consumer calls that succeeded. The hot path is the order row (what every event pays inside its session lock); the console's in-flight index is written on a basket's transitions (in, across a time bucket, out: about two per basket) and its live metrics once per flush interval per instance, so both are shown apart; orchestration starts are counted apart from the other durable client calls. Both rows publish from the bench process, so the host pays for consuming only (\`--publish-through-app\` publishes the convoy's events through POST /api/sessions instead).`,
    ``,
    table(columns, rows.map(rowCells)),
    ...(comparisons.length > 0 ? [``, ...comparisons.map((line) => `- ${line}`)] : []),
  ];
  if (checks.length > 0) {
    const first = checks[0]?.params;
    parts.push(
      ``,
      `## When the handler cost dominates the per-event overhead`,
      ``,
      `S = ${String(first?.baskets ?? 0)}, E = ${String(first?.eventsPerBasket ?? 0)}, P = ${String(first?.handlerCostMs ?? 0)} ms: the same stack, with P large next to the ≈ 5-10 ms of CPU each event costs across the host, emulator and Azurite on this machine. It shows how close the session scheduling itself comes to the bound.`,
      ``,
      table(columns, checks.map(rowCells)),
    );
  }
  if (stalls.length > 0) {
    parts.push(
      ``,
      `## sessionIdleTimeout unset: the one-minute stall`,
      ``,
      `${String(stalls[0]?.baskets ?? 0)} one-item baskets, maxConcurrentSessions ${String(stalls[0]?.maxConcurrentSessions ?? 0)}: the first sessions are held until they idle out, the others wait for a slot.`,
      ``,
      table(
        ['sessionIdleTimeout', 'publish → all orders final'],
        stalls.map((s) => [describeIdle(s.sessionIdleTimeoutMs), ms(s.allDoneMs)]),
      ),
    );
  }
  return `${parts.join('\n')}\n`;
}

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/** Two panels (drain time, ratio) against maxConcurrentSessions; one series per (app, idle timeout). */
export function svgChart(rows: readonly ScenarioResult[], title: string): string {
  const width = 880;
  const panel = { w: 360, h: 240, top: 60 };
  const lefts = [70, 500];
  const xs = [...new Set(rows.map((r) => r.params.maxConcurrentSessions))].sort((a, b) => a - b);
  const seriesKey = (r: ScenarioResult): string =>
    `${modeName(r.params.mode)}, idle ${describeIdle(r.params.sessionIdleTimeoutMs)}`;
  const keys = [...new Set(rows.map(seriesKey))];
  const height = panel.top + panel.h + 60 + Math.ceil(keys.length / 3) * 18;
  const metrics: { label: string; value: (r: ScenarioResult) => number }[] = [
    { label: 'drain time (s)', value: (r) => r.drainMs / 1000 },
    { label: 'drain / lower bound', value: (r) => r.ratio },
  ];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${String(width)}" height="${String(height)}" viewBox="0 0 ${String(width)} ${String(height)}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${String(width / 2)}" y="24" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
  ];
  const xAt = (left: number, x: number): number =>
    left + (xs.length <= 1 ? panel.w / 2 : (xs.indexOf(x) / (xs.length - 1)) * panel.w);
  metrics.forEach((metric, m) => {
    const left = lefts[m] ?? 0;
    const max = Math.max(1e-9, ...rows.map(metric.value)) * 1.1;
    const yAt = (v: number): number => panel.top + panel.h - (v / max) * panel.h;
    out.push(
      `<line x1="${String(left)}" y1="${String(panel.top + panel.h)}" x2="${String(left + panel.w)}" y2="${String(panel.top + panel.h)}" stroke="black"/>`,
    );
    out.push(
      `<line x1="${String(left)}" y1="${String(panel.top)}" x2="${String(left)}" y2="${String(panel.top + panel.h)}" stroke="black"/>`,
    );
    out.push(
      `<text x="${String(left + panel.w / 2)}" y="${String(panel.top - 12)}" text-anchor="middle">${metric.label}</text>`,
    );
    out.push(
      `<text x="${String(left + panel.w / 2)}" y="${String(panel.top + panel.h + 34)}" text-anchor="middle">maxConcurrentSessions</text>`,
    );
    for (let t = 0; t <= 4; t++) {
      const v = (max / 4) * t;
      out.push(
        `<text x="${String(left - 6)}" y="${(yAt(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(v < 10 ? 1 : 0)}</text>`,
      );
      out.push(
        `<line x1="${String(left)}" y1="${yAt(v).toFixed(1)}" x2="${String(left + panel.w)}" y2="${yAt(v).toFixed(1)}" stroke="#ddd"/>`,
      );
    }
    for (const x of xs)
      out.push(
        `<text x="${xAt(left, x).toFixed(1)}" y="${String(panel.top + panel.h + 16)}" text-anchor="middle">${String(x)}</text>`,
      );
    if (m === 1) {
      out.push(
        `<line x1="${String(left)}" y1="${yAt(1.25).toFixed(1)}" x2="${String(left + panel.w)}" y2="${yAt(1.25).toFixed(1)}" stroke="black" stroke-dasharray="4 3"/>`,
      );
      out.push(
        `<text x="${String(left + panel.w - 4)}" y="${(yAt(1.25) - 4).toFixed(1)}" text-anchor="end">target 1.25</text>`,
      );
    }
    keys.forEach((key, k) => {
      const color = palette[k % palette.length] ?? 'black';
      const points = rows
        .filter((r) => seriesKey(r) === key)
        .sort((a, b) => a.params.maxConcurrentSessions - b.params.maxConcurrentSessions)
        .map((r) => `${xAt(left, r.params.maxConcurrentSessions).toFixed(1)},${yAt(metric.value(r)).toFixed(1)}`);
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"/>`);
      for (const point of points) {
        const [cx, cy] = point.split(',');
        out.push(`<circle cx="${cx ?? '0'}" cy="${cy ?? '0'}" r="3" fill="${color}"/>`);
      }
    });
  });
  // Legend below both axis titles, three entries per row.
  keys.forEach((key, k) => {
    const x = 70 + (k % 3) * 270;
    const y = panel.top + panel.h + 62 + Math.floor(k / 3) * 18;
    out.push(
      `<rect x="${String(x)}" y="${String(y - 6)}" width="14" height="4" fill="${palette[k % palette.length] ?? 'black'}"/>`,
    );
    out.push(`<text x="${String(x + 20)}" y="${String(y)}">${escapeXml(key)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
