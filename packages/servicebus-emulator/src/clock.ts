/**
 * Every broker timer (locks, scheduled messages, held session attaches) goes through a Clock so tests
 * can move time forward instead of waiting for it.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimer(delayMs: number, callback: () => void): Timer;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, callback) {
    // Node caps timers at 2^31-1 ms; anything longer is effectively "never" for an emulator.
    const handle = setTimeout(callback, Math.min(Math.max(0, delayMs), 2_147_483_647));
    handle.unref();
    return {
      cancel: () => {
        clearTimeout(handle);
      },
    };
  },
};

interface PendingTimer {
  due: number;
  order: number;
  callback: () => void;
  cancelled: boolean;
}

/** A clock that only moves when told to; `advance` runs due timers in time order. */
export class ManualClock implements Clock {
  private current: number;
  private timers: PendingTimer[] = [];
  private created = 0;

  constructor(startMs: number = Date.now()) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    const timer: PendingTimer = {
      due: this.current + Math.max(0, delayMs),
      order: this.created++,
      callback,
      cancelled: false,
    };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way (each at its own time). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: PendingTimer | undefined;
      for (const t of this.timers) {
        if (t.due <= target && (next === undefined || t.due < next.due || (t.due === next.due && t.order < next.order)))
          next = t;
      }
      if (next === undefined) break;
      next.cancelled = true;
      this.current = Math.max(this.current, next.due);
      next.callback();
    }
    this.current = target;
  }

  /** Number of timers still waiting (handy for asserting that locks released their timers). */
  pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
}
