import type { InvocationEvent } from '@convoy/functions-host';

/** What the host's invocation events prove about a session-enabled trigger. */

export interface SessionOverlap {
  sessionId: string;
  first: InvocationEvent;
  second: InvocationEvent;
}

export function bySession(events: readonly InvocationEvent[], functionName: string): Map<string, InvocationEvent[]> {
  const sessions = new Map<string, InvocationEvent[]>();
  for (const event of events) {
    if (event.functionName !== functionName || event.sessionId === undefined) continue;
    const list = sessions.get(event.sessionId) ?? [];
    list.push(event);
    sessions.set(event.sessionId, list);
  }
  for (const list of sessions.values()) list.sort((a, b) => a.startedAt - b.startedAt);
  return sessions;
}

/** Pairs of invocations of one session whose intervals overlap (must be none: one call at a time). */
export function sameSessionOverlaps(events: readonly InvocationEvent[], functionName: string): SessionOverlap[] {
  const overlaps: SessionOverlap[] = [];
  for (const [sessionId, list] of bySession(events, functionName)) {
    for (let i = 1; i < list.length; i++) {
      const first = list[i - 1];
      const second = list[i];
      if (first !== undefined && second !== undefined && second.startedAt < first.endedAt) {
        overlaps.push({ sessionId, first, second });
      }
    }
  }
  return overlaps;
}

/** The most distinct sessions that had an invocation running at the same instant. */
export function maxParallelSessions(events: readonly InvocationEvent[], functionName: string): number {
  const edges: { at: number; delta: number; sessionId: string }[] = [];
  for (const event of events) {
    if (event.functionName !== functionName || event.sessionId === undefined) continue;
    edges.push({ at: event.startedAt, delta: 1, sessionId: event.sessionId });
    edges.push({ at: event.endedAt, delta: -1, sessionId: event.sessionId });
  }
  // Ends before starts at the same instant: touching intervals do not count as parallel.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  const running = new Map<string, number>();
  let best = 0;
  for (const edge of edges) {
    const count = (running.get(edge.sessionId) ?? 0) + edge.delta;
    if (count === 0) running.delete(edge.sessionId);
    else running.set(edge.sessionId, count);
    best = Math.max(best, running.size);
  }
  return best;
}

/** "<basketId>:<sequence>" (the app's eventId, used as message id) → sequence. */
export function sequenceOfMessageId(messageId: string | undefined): number | undefined {
  const match = /:(\d+)$/.exec(messageId ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * Successful invocations of a session that handled an event sequence lower than one handled
 * before it: a delivery out of the producer's order (the app would have to park it).
 */
export function deliveryOrderViolations(events: readonly InvocationEvent[], functionName: string): InvocationEvent[] {
  const violations: InvocationEvent[] = [];
  for (const list of bySession(events, functionName).values()) {
    let highest = 0;
    for (const event of list) {
      if (event.outcome !== 'succeeded') continue;
      const sequence = sequenceOfMessageId(event.messageId);
      if (sequence === undefined) continue;
      if (sequence < highest) violations.push(event);
      highest = Math.max(highest, sequence);
    }
  }
  return violations;
}

export function describeInvocation(event: InvocationEvent): string {
  return `${event.functionName} session=${event.sessionId ?? '-'} message=${event.messageId ?? '-'} delivery=${String(event.deliveryCount ?? '-')} ${event.outcome} [${event.startedAt.toFixed(1)}, ${event.endedAt.toFixed(1)}]`;
}
