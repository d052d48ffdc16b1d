import type { HostStats } from './standIns';

/**
 * The `npm start` progress line. It is printed when work moved — a message settled or dead-lettered,
 * an order fulfilled, an orchestration failed, a call made — and not again while nothing moves:
 * gauges that come and go without progress (sessions held open, calls in flight, durable work
 * pending) are shown on the line but do not print it by themselves.
 */

export function progressLine(stats: HostStats, deadLettered: number): string {
  const sb = stats.serviceBus;
  const parts = [
    `sessions active ${sb.sessionsActive}`,
    `messages processed ${sb.messagesCompleted}${sb.messagesAbandoned > 0 ? ` (abandoned ${sb.messagesAbandoned})` : ''}`,
    `dead-lettered ${deadLettered}`,
  ];
  if (stats.durable !== undefined) {
    parts.push(`orders fulfilled ${stats.durable.orchestrations.Completed ?? 0}`);
    const failed = stats.durable.orchestrations.Failed ?? 0;
    if (failed > 0) parts.push(`orchestrations failed ${failed}`);
    if (stats.durable.pendingWork > 0) parts.push(`durable work pending ${stats.durable.pendingWork}`);
  }
  parts.push(
    `invocations ${stats.invocations.total} (${stats.invocations.failed} failed, ${stats.invocations.inFlight} in flight)`,
  );
  return `progress: ${parts.join(' · ')}`;
}

/** The counters that only grow when work is done (gauges left out). */
function movement(stats: HostStats, deadLettered: number): string {
  const { serviceBus: sb, invocations, durable } = stats;
  return [
    sb.messagesCompleted,
    sb.messagesAbandoned,
    deadLettered,
    durable?.orchestrations.Completed ?? 0,
    durable?.orchestrations.Failed ?? 0,
    invocations.total,
    invocations.failed,
  ].join(',');
}

/** Returns a sampler: give it the stats every tick; it prints the line only when something moved. */
export function progressReporter(print: (line: string) => void): (stats: HostStats, deadLettered: number) => void {
  let last: string | undefined;
  return (stats, deadLettered) => {
    const moved = movement(stats, deadLettered);
    // The first sample is the baseline: an idle stack prints nothing until work arrives.
    if (last !== undefined && moved !== last) print(progressLine(stats, deadLettered));
    last = moved;
  };
}
