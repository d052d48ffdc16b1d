import type { FaultKind, SoakResult } from './types';

/** The soak's verdict and its table (terminal and bench/results/soak.md). */

export function failures(result: SoakResult): string[] {
  const out: string[] = [];
  if (result.lost > 0) out.push(`${String(result.lost)} lost`);
  if (result.appliedTwice > 0) out.push(`${String(result.appliedTwice)} applied twice`);
  if (result.outOfOrder > 0) out.push(`${String(result.outOfOrder)} out of order`);
  if (result.stuck > 0) out.push(`${String(result.stuck)} stuck`);
  if (result.hostCrashes > 0) out.push(`${String(result.hostCrashes)} host process(es) ended on their own`);
  if (result.protocolErrors > 0) out.push(`${String(result.protocolErrors)} AMQP protocol error(s)`);
  return out;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

const faultLabels: Record<FaultKind, string> = {
  hostKill: 'host SIGKILL + restart',
  hostStop: 'host SIGSTOP past the lock, then SIGCONT',
  storageOutage: 'storage outage (proxy cut)',
  emulatorRestart: 'emulator stop + start (data dir kept)',
  handlerException: 'handler exception (injected, before/after saving)',
  duplicatePublish: 'duplicate publish (same message id)',
  poison: 'poison message (own session)',
};

export function table(result: SoakResult): string {
  const reasons = Object.entries(result.deadLetterReasons)
    .map(([reason, n]) => `${reason} × ${String(n)}`)
    .join(', ');
  const rows: [string, string][] = [
    ['baskets', `${String(result.baskets)} (+ ${String(result.poisonSessions)} poison sessions)`],
    ['messages', String(result.messages)],
    ['applied', String(result.applied)],
    [
      'duplicates',
      `${String(result.duplicates)} (+ ${String(result.redeliveriesRecorded)} redeliveries the app recorded)`,
    ],
    ['rejected', String(result.rejected)],
    ['quarantined', String(result.quarantined)],
    [
      'dead-lettered',
      `${String(result.deadLettered)}${reasons === '' ? '' : ` (${reasons})`}; replayed ${String(result.deadLetteredReplayed)}, left ${String(result.deadLetteredLeft)}`,
    ],
    ['lost', String(result.lost)],
    ['applied twice', String(result.appliedTwice)],
    ['out of order', String(result.outOfOrder)],
    ['stuck (not terminal)', String(result.stuck)],
    ...(Object.keys(result.faults) as FaultKind[]).map((kind): [string, string] => {
      const fault = result.faults[kind];
      return [
        `fault: ${faultLabels[kind]}`,
        fault.note ??
          `${String(fault.injected)}${fault.planned === fault.injected ? '' : ` of ${String(fault.planned)} planned`}`,
      ];
    }),
    ['failed consumer calls (abandoned, redelivered)', String(result.failedCalls)],
    ['consumer calls on a redelivery', String(result.redeliveries)],
    ['outage length', `${seconds(result.outageMs)} each`],
    ['emulator down', `${seconds(result.emulatorDownMs)} each`],
    ['host stop length', `${seconds(result.hostStopMs)} (lock duration ${seconds(result.lockDurationMs)})`],
    ['host processes', String(result.hostLaunches)],
    ['host processes that ended on their own', String(result.hostCrashes)],
    ['AMQP protocol errors', String(result.protocolErrors)],
    ['fulfillments resumed by the soak', String(result.fulfillmentsResumed)],
    ['wall time', seconds(result.wallMs)],
  ];
  return ['| | |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}
