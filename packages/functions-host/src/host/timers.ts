/**
 * Timer triggers on the local host: a six-field NCRONTAB schedule ({second} {minute} {hour} {day}
 * {month} {day-of-week}, as the Functions timer trigger reads it), evaluated in UTC (the host's default
 * without WEBSITE_TIME_ZONE). One call at a time per function, like the host's singleton lock: an
 * occurrence that comes while the previous call still runs is skipped. The TimerInfo handed over is
 * the shape the host sends (`Schedule`, `ScheduleStatus`, `IsPastDue`); past-due detection and
 * schedule monitoring (its storage of last/next runs) are left out.
 */

interface Field {
  min: number;
  max: number;
}

const fields: Field[] = [
  { min: 0, max: 59 }, // second
  { min: 0, max: 59 }, // minute
  { min: 0, max: 23 }, // hour
  { min: 1, max: 31 }, // day of month
  { min: 1, max: 12 }, // month
  { min: 0, max: 6 }, // day of week (0 = Sunday; 7 is read as Sunday too)
];

const names: Record<string, number> = {
  JAN: 1,
  FEB: 2,
  MAR: 3,
  APR: 4,
  MAY: 5,
  JUN: 6,
  JUL: 7,
  AUG: 8,
  SEP: 9,
  OCT: 10,
  NOV: 11,
  DEC: 12,
  SUN: 0,
  MON: 1,
  TUE: 2,
  WED: 3,
  THU: 4,
  FRI: 5,
  SAT: 6,
};

export interface Schedule {
  seconds: Set<number>;
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** Whether day-of-month / day-of-week were restricted (cron: a day matches either when both are). */
  daysRestricted: boolean;
  weekdaysRestricted: boolean;
}

function valueOf(text: string, field: Field, expression: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : names[text.toUpperCase()];
  const max = field === fields[5] ? 7 : field.max;
  if (value === undefined || value < field.min || value > max) {
    throw new Error(`NCRONTAB "${expression}": "${text}" is out of range ${field.min}-${field.max}.`);
  }
  return field === fields[5] && value === 7 ? 0 : value;
}

function parseField(text: string, field: Field, expression: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`NCRONTAB "${expression}": bad step in "${part}".`);
    let from: number;
    let to: number;
    if (range === '*') {
      from = field.min;
      to = field.max;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      from = valueOf(a, field, expression);
      to = valueOf(b, field, expression);
    } else {
      from = valueOf(range, field, expression);
      to = stepText === undefined ? from : field.max;
    }
    if (from > to) throw new Error(`NCRONTAB "${expression}": empty range "${part}".`);
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return values;
}

export function parseNcrontab(expression: string): Schedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 6) {
    throw new Error(`NCRONTAB "${expression}" must have six fields: second minute hour day month day-of-week.`);
  }
  const [s, m, h, d, mo, w] = fields.map((field, i) => parseField(parts[i] ?? '', field, expression));
  if (s === undefined || m === undefined || h === undefined || d === undefined || mo === undefined || w === undefined) {
    throw new Error(`NCRONTAB "${expression}" could not be read.`);
  }
  return {
    seconds: s,
    minutes: m,
    hours: h,
    days: d,
    months: mo,
    weekdays: w,
    daysRestricted: parts[3] !== '*',
    weekdaysRestricted: parts[5] !== '*',
  };
}

function dayMatches(schedule: Schedule, date: Date): boolean {
  const day = schedule.days.has(date.getUTCDate());
  const weekday = schedule.weekdays.has(date.getUTCDay());
  if (schedule.daysRestricted && schedule.weekdaysRestricted) return day || weekday;
  return day && weekday;
}

/** The first occurrence strictly after `afterMs` (UTC), searching at most five years ahead. */
export function nextOccurrence(schedule: Schedule, afterMs: number): number {
  const t = new Date(Math.floor(afterMs / 1000) * 1000 + 1000);
  const limit = afterMs + 5 * 366 * 24 * 3600 * 1000;
  while (t.getTime() <= limit) {
    if (!schedule.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0);
    } else if (!dayMatches(schedule, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0);
    } else if (!schedule.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0);
    } else if (!schedule.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0);
    } else if (!schedule.seconds.has(t.getUTCSeconds())) {
      t.setUTCSeconds(t.getUTCSeconds() + 1);
    } else {
      return t.getTime();
    }
  }
  throw new Error('The schedule has no occurrence in the next five years.');
}

/** What a timer call gets as its trigger input: the host's TimerInfo. */
export function timerInfo(lastMs: number | undefined, nextMs: number, nowMs: number): string {
  return JSON.stringify({
    Schedule: { AdjustForDST: true },
    ScheduleStatus: {
      Last: new Date(lastMs ?? nowMs).toISOString(),
      Next: new Date(nextMs).toISOString(),
      LastUpdated: new Date(nowMs).toISOString(),
    },
    IsPastDue: false,
  });
}

/** Runs one timer function on its schedule; the same start/stop/abort/settled as the Service Bus pumps. */
export class TimerPump {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private last: number | undefined;
  private stopped = false;

  constructor(
    private readonly schedule: Schedule,
    private readonly call: (input: string) => Promise<void>,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.stopped = false;
    this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.settled();
  }

  abort(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    return Promise.resolve();
  }

  async settled(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private arm(): void {
    if (this.stopped) return;
    const next = nextOccurrence(this.schedule, this.now());
    // setTimeout holds at most ~24.8 days; a later occurrence is re-armed on the way.
    const delay = Math.min(next - this.now(), 2 ** 31 - 1);
    this.timer = setTimeout(
      () => {
        this.fire(next);
      },
      Math.max(0, delay),
    );
    this.timer.unref();
  }

  private fire(due: number): void {
    if (this.now() < due) {
      this.arm();
      return;
    }
    if (this.running === undefined) {
      const following = nextOccurrence(this.schedule, due);
      const input = timerInfo(this.last, following, this.now());
      this.last = due;
      this.running = this.call(input)
        .catch(() => undefined)
        .finally(() => {
          this.running = undefined;
        });
    }
    this.arm();
  }
}
