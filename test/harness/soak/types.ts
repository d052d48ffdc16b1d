/**
 * The fault soak: baskets published in waves straight to the emulator while a seeded schedule of
 * faults hits the host, storage and the producer; then every basket's applied log and every
 * published message is checked against what was published. Its options and its result.
 */

export type FaultKind =
  'hostKill' | 'hostStop' | 'storageOutage' | 'emulatorRestart' | 'handlerException' | 'duplicatePublish' | 'poison';

export interface SoakOptions {
  baskets: number;
  seed: number;
  hostKills: number;
  hostStops: number;
  storageOutages: number;
  /** Emulator stop + start on its data directory, down for emulatorDownMs each. */
  emulatorRestarts: number;
  emulatorDownMs: number;
  /** Length of each storage outage. */
  outageMs: number;
  /** The order-events lock duration; each SIGSTOP lasts longer than it. */
  lockDurationMs: number;
  handlerExceptions: number;
  duplicates: number;
  poison: number;
  /** Longest wait, before each disruptive fault, for its share of the chunk before it to complete. */
  faultGapMs: number;
  /** No invocation for this long after the schedule = drained (or stuck). */
  quietMs: number;
  /** The whole run, faults and recovery included, must end within this. */
  timeoutMs: number;
  verbose: boolean;
  log: (line: string) => void;
}

export interface SoakResult {
  seed: number;
  baskets: number;
  poisonSessions: number;
  /** Messages the soak published (events, duplicates, poison) + the InventoryUpdated the app publishes per basket. */
  messages: number;
  applied: number;
  duplicates: number;
  /** Redeliveries of applied events the app recorded as duplicates (after kills, stops, faults). */
  redeliveriesRecorded: number;
  rejected: number;
  quarantined: number;
  /** Messages seen in the dead-letter queue (with a reason); deadLetteredLeft of them still there at the end. */
  deadLettered: number;
  deadLetterReasons: Record<string, number>;
  deadLetteredReplayed: number;
  deadLetteredLeft: number;
  lost: number;
  appliedTwice: number;
  outOfOrder: number;
  stuck: number;
  /** Fulfillments the soak started again because the durable instance died with a killed host. */
  fulfillmentsResumed: number;
  faults: Record<FaultKind, { planned: number; injected: number; note?: string }>;
  outageMs: number;
  emulatorDownMs: number;
  hostStopMs: number;
  lockDurationMs: number;
  hostLaunches: number;
  /** Host processes that ended without the soak killing them (each a defect: fails the soak). */
  hostCrashes: number;
  /** AMQP protocol errors the emulator or a host printed (each one dropped a connection: fails the soak). */
  protocolErrors: number;
  wallMs: number;
  /** When each disruptive fault hit, and how much work was in flight then. */
  faultLog: string[];
  /** Failed consumer calls (each abandoned and redelivered), injected ones included. */
  failedCalls: number;
  /** Consumer calls on a redelivery (deliveryCount > 1): the faults' footprint. */
  redeliveries: number;
  /** Up to 10 lines naming what went wrong, for the failure report. */
  problems: string[];
}

/** The consumer whose calls the soak follows. */
export const consumer = 'processOrderEvent';

/** The table's note when the run has no emulator restart (`--emulator-restarts 0`). */
export const emulatorRestartSkipped = 'off for this run (--emulator-restarts 0)';
