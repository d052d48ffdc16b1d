import type { NamespaceStats } from './namespace';

/** What `RunningEmulator.stats()` returns: the namespace's view and the open connections. */
export type EmulatorStats = NamespaceStats & { connections: number };

/** One line per entity that holds anything: depth by state, sessions and who owns them. */
export function formatStats(stats: EmulatorStats): string {
  const lines = [`${new Date().toISOString()} connections=${stats.connections}`];
  for (const e of stats.entities) {
    const total = e.active + e.locked + e.deferred + e.scheduled;
    const owned = e.sessions.filter((s) => s.owner !== undefined);
    if (total === 0 && owned.length === 0 && e.receivers === 0 && e.waitingAcceptors === 0) continue;
    const sessionInfo =
      e.sessions.length === 0
        ? ''
        : ` sessions=${e.sessions.length} owned=${owned.length} waiting-accepts=${e.waitingAcceptors}`;
    lines.push(
      `  ${e.path}: active=${e.active} locked=${e.locked} deferred=${e.deferred} scheduled=${e.scheduled} receivers=${e.receivers}${sessionInfo}`,
    );
    for (const s of owned)
      lines.push(
        `    session "${s.id}" owner=${s.owner ?? ''} visible=${s.visible} locked=${s.locked} until=${s.lockedUntil ?? ''}`,
      );
  }
  return lines.join('\n');
}

/** Messages sitting in dead-letter queues, over every entity (the progress line of `npm start`). */
export function deadLetterDepth(stats: Pick<EmulatorStats, 'entities'>): number {
  let depth = 0;
  for (const e of stats.entities) {
    if (e.path.toLowerCase().endsWith('/$deadletterqueue')) depth += e.active + e.locked + e.deferred + e.scheduled;
  }
  return depth;
}
