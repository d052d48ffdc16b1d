import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostStats } from '../src/standIns';
import { progressReporter } from '../src/progress';

function stats(completed: number, gauges: { sessions: number; inFlight: number; pending: number }): HostStats {
  return {
    invocations: { total: completed, succeeded: completed, failed: 0, inFlight: gauges.inFlight, byFunction: {} },
    serviceBus: {
      sessionsActive: gauges.sessions,
      sessionsAccepted: 0,
      sessionsIdleClosed: 0,
      sessionsLockLost: 0,
      messagesReceived: completed,
      messagesCompleted: completed,
      messagesAbandoned: 0,
    },
    durable: { orchestrations: {}, entities: 0, pendingWork: gauges.pending },
  };
}

describe('npm start progress line', () => {
  it('prints when work moved, and not while only sessions, calls in flight or pending work come and go', () => {
    const printed: string[] = [];
    const sample = progressReporter((line) => printed.push(line));
    const idle = { sessions: 0, inFlight: 0, pending: 0 };
    const busy = { sessions: 16, inFlight: 16, pending: 3 };
    sample(stats(0, idle), 0); // the baseline: an idle stack prints nothing
    sample(stats(0, busy), 0); // calls started, none done yet
    sample(stats(20, busy), 0);
    sample(stats(20, idle), 0); // nothing moved, only the gauges dropped
    sample(stats(20, busy), 0);
    sample(stats(20, idle), 0);
    sample(stats(20, idle), 1); // a dead letter is movement
    assert.deepEqual(
      printed.map((line) => /messages processed (\d+).*dead-lettered (\d+)/.exec(line)?.slice(1).join('/')),
      ['20/0', '20/1'],
    );
  });
});
