/** Time for durable timers and history timestamps; tests inject a manual clock instead of waiting. */
export interface DurableClock {
  now(): number;
  setTimer(delayMs: number, callback: () => void): { cancel(): void };
}

export const systemClock: DurableClock = {
  now: () => Date.now(),
  setTimer(delayMs, callback) {
    // Node caps timers at 2^31-1 ms; a longer durable timer simply re-arms when it wakes early.
    const handle = setTimeout(callback, Math.min(Math.max(0, delayMs), 2_147_483_647));
    return {
      cancel: () => {
        clearTimeout(handle);
      },
    };
  },
};
