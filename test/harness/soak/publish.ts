import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceBusMessage, ServiceBusSender } from '@azure/service-bus';
import { sendInBatches } from '../publishDirect';
import { secondsSinceStart, type SoakRun } from './context';
import { interleave, type PlannedBasket } from './plan';
import type { FaultKind } from './types';

/**
 * The publish phase: chunks of baskets go out while the schedule's faults hit the host, storage and
 * the emulator; duplicates are re-sent along the way and once more at the end.
 */

/** The producer side of a run: what it sent, re-sent and retried. */
export class Producer {
  published = 0;
  sendRetries = 0;
  readonly duplicateSends: ServiceBusMessage[] = [];
  private readonly sent = new Set<string>();
  private readonly resent = new Set<ServiceBusMessage>();

  constructor(
    private readonly run: SoakRun,
    private readonly sender: ServiceBusSender,
  ) {}

  /** Chunk c of the plan, its share of the poison, and the duplicates now due. */
  async publishChunk(c: number): Promise<void> {
    const { plan } = this.run;
    const chunk = plan.chunks[c] ?? [];
    const extra = plan.poison.slice(c * plan.poisonPerChunk, (c + 1) * plan.poisonPerChunk).map((p) => p.message);
    await this.send([...interleave(chunk), ...extra]);
    for (const b of chunk) this.sent.add(b.basketId);
    this.run.injected.poison += extra.length;
    this.published += chunk.length;
    // Re-send (same message id) events already sent: the producer retry the broker must absorb.
    const due = plan.duplicateVictims.filter((m) => this.sent.has(String(m.sessionId)) && !this.resent.has(m));
    const slice = due.slice(0, Math.ceil(plan.duplicateVictims.length / plan.chunks.length));
    if (slice.length > 0) await this.sendDuplicates(slice);
  }

  /** The rest, and a quarter once more, after most originals were consumed (inside the 10-minute window). */
  async sendLastDuplicates(): Promise<void> {
    const victims = this.run.plan.duplicateVictims;
    await this.sendDuplicates([
      ...victims.filter((m) => !this.resent.has(m)),
      ...victims.slice(0, Math.ceil(victims.length / 4)),
    ]);
  }

  private async sendDuplicates(messages: ServiceBusMessage[]): Promise<void> {
    await this.send(messages);
    for (const m of messages) this.resent.add(m);
    this.duplicateSends.push(...messages);
    this.run.injected.duplicatePublish += messages.length;
  }

  private send(messages: ServiceBusMessage[]): Promise<void> {
    return sendInBatches(this.sender, messages, (error) => this.retryAfter(error));
  }

  /** A producer keeps trying: a connect made while the emulator restarts fails outright (not retried by the SDK). */
  private async retryAfter(error: unknown): Promise<boolean> {
    if (Date.now() > this.run.deadline) return false;
    this.sendRetries++;
    this.run.options.log(`  send failed (${error instanceof Error ? error.message : String(error)}); retrying in 1 s`);
    await sleep(1_000);
    return true;
  }
}

/** Publishes every chunk, one fault between each pair; returns when the last chunk is sent. */
export async function publishWithFaults(run: SoakRun, producer: Producer): Promise<string[]> {
  const faultLog: string[] = [];
  for (const [i, { kind, share }] of run.plan.schedule.entries()) {
    await producer.publishChunk(2 * i);
    await waitForShare(run, run.plan.chunks[2 * i] ?? [], share);
    const notComplete = producer.published - run.completion.refresh().size;
    faultLog.push(`${secondsSinceStart(run)}: ${kind} with ${String(notComplete)} published baskets not complete`);
    run.options.log(`  fault at ${faultLog.at(-1) ?? ''}`);
    // The next chunk goes out while the fault lasts: it waits in the queue (or meets the fault).
    await Promise.all([injectFault(run, kind), producer.publishChunk(2 * i + 1)]);
  }
  await producer.publishChunk(run.plan.chunks.length - 1);
  await producer.sendLastDuplicates();
  if (producer.sendRetries > 0)
    faultLog.push(`publisher: ${String(producer.sendRetries)} send(s) retried after a failure`);
  return faultLog;
}

/** Waits (up to faultGapMs) until `share` of the chunk before a fault is complete. */
async function waitForShare(run: SoakRun, before: readonly PlannedBasket[], share: number): Promise<void> {
  const waitUntil = Math.min(run.deadline, Date.now() + run.options.faultGapMs);
  const target = Math.ceil(before.length * share);
  for (;;) {
    run.completion.refresh();
    if (before.filter((b) => run.completion.has(b.basketId)).length >= target || Date.now() > waitUntil) return;
    await sleep(100);
  }
}

async function injectFault(run: SoakRun, kind: FaultKind): Promise<void> {
  const { stack, options } = run;
  if (kind === 'hostKill') await stack.killAndRestartHost();
  else if (kind === 'emulatorRestart') await stack.restartEmulator(options.emulatorDownMs);
  else if (kind === 'hostStop') await stopHostPastLock(run);
  else {
    stack.cutStorage();
    try {
      await sleep(options.outageMs);
    } finally {
      stack.restoreStorage();
    }
  }
  run.injected[kind]++;
}

async function stopHostPastLock(run: SoakRun): Promise<void> {
  const pid = run.stack.host.pid;
  process.kill(pid, 'SIGSTOP');
  try {
    await sleep(run.plan.hostStopMs);
  } finally {
    // A host that died meanwhile is already reported (unexpectedExits) and replaced.
    signalIfAlive(pid, 'SIGCONT');
  }
}

function signalIfAlive(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Every 10 s: how far publishing and completion have got. Stop it with clearInterval. */
export function logProgress(run: SoakRun, producer: Producer): NodeJS.Timeout {
  const timer = setInterval(() => {
    const done = run.completion.refresh().size;
    run.options.log(
      `  ${secondsSinceStart(run)}: published ${String(producer.published)}/${String(run.plan.baskets.length)}, complete ${String(done)}, DLQ ${String(run.stack.dlqDepth())}, host #${String(run.stack.launches)}`,
    );
  }, 10_000);
  timer.unref();
  return timer;
}
