import { planRun, runPrefix } from '../../test/harness/baskets';
import { finalStatuses, publishBaskets, waitForOrders } from '../../test/harness/convoyClient';
import { hostJsonWith } from './hostJson';
import { startStack } from '../../test/harness/stack';

/**
 * The classic "a few sessions, then a one-minute stall": more baskets than session slots, each
 * basket short. A slot keeps its finished session until sessionIdleTimeout passes without a
 * message, so with the setting unset (60 s) the next baskets wait a minute for a free slot.
 */

export interface StallResult {
  sessionIdleTimeoutMs: number | undefined;
  baskets: number;
  maxConcurrentSessions: number;
  /** Publish → every order Fulfilled or Backordered. */
  allDoneMs: number;
}

export async function runStall(
  sessionIdleTimeoutMs: number | undefined,
  baskets = 4,
  maxConcurrentSessions = 2,
): Promise<StallResult> {
  const stack = await startStack({ hostJson: hostJsonWith({ maxConcurrentSessions, sessionIdleTimeoutMs }) });
  try {
    const run = planRun(runPrefix('stall'), baskets, 1, false);
    const started = Date.now();
    await publishBaskets(stack.host.url, run.request);
    await waitForOrders(
      stack.host.url,
      [...run.published.keys()],
      (order) => order !== undefined && finalStatuses.has(order.status),
      (sessionIdleTimeoutMs ?? 60_000) * Math.ceil(baskets / maxConcurrentSessions) + 60_000,
    );
    return { sessionIdleTimeoutMs, baskets, maxConcurrentSessions, allDoneMs: Date.now() - started };
  } finally {
    await stack.stop();
  }
}
