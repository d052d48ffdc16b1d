import { classifyError } from '../errors';

/**
 * Holding a message through a transient failure. Abandoning at once would burn the delivery
 * count in seconds during a storage outage (10 deliveries, then the dead-letter queue); instead
 * the invocation keeps the message (and its session lock, which the host renews up to
 * maxAutoLockRenewalDuration) and tries again after an exponential, jittered delay. Only when
 * the hold budget is spent does the error go back to the host, so the message is abandoned
 * (delivery count +1) and redelivered first in its session.
 */

export interface RetrySchedule {
  /** Delay before the first retry. */
  firstDelayMs: number;
  /** Cap of the doubling delay. */
  maxDelayMs: number;
  /** Longest time one invocation holds its message; must stay inside the lock auto-renewal. */
  holdBudgetMs: number;
}

export const defaultRetrySchedule: Omit<RetrySchedule, 'holdBudgetMs'> = { firstDelayMs: 500, maxDelayMs: 30_000 };

/** Time as a port, so tests drive the schedule without waiting. */
export interface RetryClock {
  nowMs(): number;
  sleep(ms: number): Promise<void>;
  /** In [0, 1). */
  random(): number;
}

export const systemClock: RetryClock = {
  nowMs: () => Date.now(),
  sleep: (ms) =>
    new Promise((resolve) => {
      setTimeout(resolve, ms);
    }),
  random: () => Math.random(),
};

export interface RetryNotice {
  /** The attempt that failed (1 = the first call). */
  attempt: number;
  error: unknown;
  delayMs: number;
  elapsedMs: number;
}

/**
 * Delay after failed attempt n (1-based): first·2^(n-1), capped, then drawn from its upper half
 * (jitter, so sessions held by one outage do not all retry in the same instant).
 */
export function retryDelayMs(schedule: Omit<RetrySchedule, 'holdBudgetMs'>, attempt: number, random: number): number {
  const ceiling = Math.min(schedule.maxDelayMs, schedule.firstDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/**
 * Runs `attempt` until it succeeds or the next retry would end past the hold budget; then the
 * last error is thrown. Only a transient error is held: a permanent one or a bug is thrown at once.
 */
export async function holdAndRetry<T>(
  attempt: () => Promise<T>,
  schedule: RetrySchedule,
  clock: RetryClock,
  onRetry: (notice: RetryNotice) => void,
): Promise<T> {
  const started = clock.nowMs();
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const elapsedMs = clock.nowMs() - started;
      const delayMs = retryDelayMs(schedule, n, clock.random());
      if (classifyError(error) !== 'transient' || elapsedMs + delayMs > schedule.holdBudgetMs) throw error;
      onRetry({ attempt: n, error, delayMs, elapsedMs });
      await clock.sleep(delayMs);
    }
  }
}
