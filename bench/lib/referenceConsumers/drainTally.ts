import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { parseHostJson, type ServiceBusOptions } from '@convoy/functions-host';

/**
 * What the reference consumers share with bench/dotnet/ProcessorDrain: its command line, its stdout
 * protocol ({"ready":true}, then one result line per burst) and its bookkeeping (order per session,
 * overlapping calls, the end of the burst's last handler), so bench:processor drives all of them alike.
 */
export interface DrainSpec {
  connectionString: string;
  queue: string;
  sessions: number;
  events: number;
  bursts: number;
  timeoutMs: number;
  serviceBus: ServiceBusOptions;
}

export function readDrainSpec(argv: readonly string[]): DrainSpec {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      connection: { type: 'string' },
      queue: { type: 'string' },
      'host-json': { type: 'string' },
      sessions: { type: 'string' },
      events: { type: 'string' },
      bursts: { type: 'string', default: '1' },
      timeout: { type: 'string', default: '600' },
    },
  });
  const required = (name: string, value: string | undefined): string => {
    if (value === undefined || value === '') throw new Error(`--${name} is required`);
    return value;
  };
  const whole = (name: string, value: string | undefined): number => {
    const n = Number(required(name, value));
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number ≥ 1, got "${String(value)}"`);
    return n;
  };
  const hostJson: unknown = JSON.parse(readFileSync(required('host-json', values['host-json']), 'utf8'));
  return {
    connectionString: required('connection', values.connection),
    queue: required('queue', values.queue),
    sessions: whole('sessions', values.sessions),
    events: whole('events', values.events),
    bursts: whole('bursts', values.bursts),
    timeoutMs: whole('timeout', values.timeout) * 1000,
    serviceBus: parseHostJson(hostJson).serviceBus,
  };
}

/** Message ids are `<basket>:<sequence>` (test/harness/publishDirect). */
function sequenceOf(messageId: unknown): number {
  const text = String(messageId);
  const sequence = Number(text.slice(text.lastIndexOf(':') + 1));
  if (!Number.isInteger(sequence) || sequence < 1) throw new Error(`message id "${text}" is not <basket>:<sequence>`);
  return sequence;
}

export class DrainTally {
  readonly #events: number;
  readonly #lastSequence = new Map<string, number>();
  readonly #inFlight = new Set<string>();
  readonly #finished = new Set<string>();
  #calls = 0;
  #orderViolations = 0;
  #overlaps = 0;
  #errors = 0;
  #sessionsAccepted = 0;
  #lastEndUnixMs = 0;

  constructor(events: number) {
    this.#events = events;
  }

  sessionAccepted(): void {
    this.#sessionsAccepted++;
  }

  error(): void {
    this.#errors++;
  }

  /** The null handler: checks order and overlap, and stamps its end as ProcessorDrain does. */
  handle(sessionId: string, messageId: unknown): void {
    if (this.#inFlight.has(sessionId)) this.#overlaps++;
    this.#inFlight.add(sessionId);
    const sequence = sequenceOf(messageId);
    if (sequence !== (this.#lastSequence.get(sessionId) ?? 0) + 1) this.#orderViolations++;
    this.#lastSequence.set(sessionId, sequence);
    this.#calls++;
    if (sequence === this.#events) {
      this.#finished.add(sessionId);
      this.#lastEndUnixMs = Math.max(this.#lastEndUnixMs, performance.timeOrigin + performance.now());
    }
  }

  /** The call for this session has settled its message (or failed to). */
  settled(sessionId: string): void {
    this.#inFlight.delete(sessionId);
  }

  /** Prints ready, then waits for each burst and prints its result line; resolves when all have drained. */
  async report(spec: DrainSpec): Promise<boolean> {
    console.log(JSON.stringify({ ready: true }));
    const deadline = Date.now() + spec.timeoutMs;
    let callsBefore = 0;
    let acceptedBefore = 0;
    let drained = true;
    for (let burst = 1; burst <= spec.bursts && drained; burst++) {
      while (this.#finished.size < burst * spec.sessions && Date.now() < deadline) await sleep(2);
      drained = this.#finished.size >= burst * spec.sessions;
      const cpu = process.cpuUsage();
      console.log(
        JSON.stringify({
          burst,
          drained,
          sessionsFinished: this.#finished.size - (burst - 1) * spec.sessions,
          lastEndUnixMs: this.#lastEndUnixMs,
          calls: this.#calls - callsBefore,
          orderViolations: this.#orderViolations,
          overlaps: this.#overlaps,
          errors: this.#errors,
          sessionsAccepted: this.#sessionsAccepted - acceptedBefore,
          cpuMs: (cpu.user + cpu.system) / 1000,
        }),
      );
      callsBefore = this.#calls;
      acceptedBefore = this.#sessionsAccepted;
    }
    return drained;
  }
}

/** The reference consumers implement the extension's defaults the bench uses, nothing more. */
export function requireSimpleSessionSettings(options: ServiceBusOptions, consumer: string): void {
  if (options.maxConcurrentCallsPerSession !== 1 || options.prefetchCount !== 0 || !options.autoCompleteMessages)
    throw new Error(
      `${consumer} handles maxConcurrentCallsPerSession 1, prefetchCount 0 and autoCompleteMessages true only; host.json has ${String(options.maxConcurrentCallsPerSession)}, ${String(options.prefetchCount)}, ${String(options.autoCompleteMessages)}.`,
    );
}
