import { ServiceBusClient } from '@azure/service-bus';
import { guardReopenOfClosingConnections } from '@convoy/functions-host';
import { orderEventsQueue } from '../stack';
import { startRun, type SoakRun } from './context';
import { describePlan, planSoak } from './plan';
import { logProgress, Producer, publishWithFaults } from './publish';
import { drainAndRecover, type Recovery } from './recover';
import { startSoakStack } from './stack';
import { consumer, emulatorRestartSkipped, type SoakOptions, type SoakResult } from './types';
import { verify, type Verdict } from './verify';

export type { FaultKind, SoakOptions, SoakResult } from './types';

/**
 * The fault soak, phase by phase: plan (plan.ts) and start the stack (stack.ts); publish under the
 * fault schedule (publish.ts); drain and recover (recover.ts); verify against what was published
 * (verify.ts); the result the report (report.ts) prints.
 */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const startedAt = Date.now();
  const plan = planSoak(options);
  options.log(describePlan(plan, options));
  const stack = await startSoakStack({
    lockDurationMs: options.lockDurationMs,
    faults: plan.handlerFaults,
    verbose: options.verbose,
    log: options.log,
  });
  const run = startRun(options, plan, stack, startedAt);
  // The publisher's SDK reconnects across the emulator restart without a second open on one socket.
  guardReopenOfClosingConnections();
  // Sends during an emulator restart retry every second rather than the SDK's default 30 s.
  const client = new ServiceBusClient(stack.emulator.connectionString, {
    retryOptions: { maxRetries: 60, retryDelayInMs: 1_000 },
  });
  let progress: NodeJS.Timeout | undefined;
  try {
    const producer = new Producer(run, client.createSender(orderEventsQueue));
    progress = logProgress(run, producer);
    const faultLog = await publishWithFaults(run, producer);
    const recovery = await drainAndRecover(run);
    clearInterval(progress);
    const verdict = await verify(run, producer.duplicateSends);
    return soakResult(run, { producer, faultLog, recovery, verdict });
  } finally {
    clearInterval(progress);
    await client.close().catch(() => undefined);
    await stack.stop().catch((error: unknown) => {
      options.log(`stopping the stack: ${String(error)}`);
    });
  }
}

interface Phases {
  producer: Producer;
  faultLog: string[];
  recovery: Recovery;
  verdict: Verdict;
}

function soakResult(run: SoakRun, { producer, faultLog, recovery, verdict }: Phases): SoakResult {
  const { options, plan, stack } = run;
  const calls = stack.events.filter((e) => e.functionName === consumer);
  const reasons: Record<string, number> = {};
  for (const { reason } of recovery.letters.values()) reasons[reason] = (reasons[reason] ?? 0) + 1;
  return {
    seed: options.seed,
    baskets: plan.baskets.length,
    poisonSessions: plan.poison.length,
    messages: plan.eventCount + producer.duplicateSends.length + plan.poison.length + plan.baskets.length,
    ...verdict,
    deadLettered: recovery.letters.size,
    deadLetterReasons: reasons,
    deadLetteredReplayed: [...recovery.letters.values()].filter((l) => l.replayed).length,
    fulfillmentsResumed: recovery.fulfillmentsResumed,
    faults: faultCounts(run),
    outageMs: options.outageMs,
    emulatorDownMs: options.emulatorDownMs,
    hostStopMs: plan.hostStopMs,
    lockDurationMs: options.lockDurationMs,
    hostLaunches: stack.launches,
    hostCrashes: stack.unexpectedExits.length,
    protocolErrors: stack.protocolErrors().length,
    wallMs: Date.now() - run.startedAt,
    faultLog,
    failedCalls: calls.filter((e) => e.outcome === 'failed').length,
    redeliveries: calls.filter((e) => (e.deliveryCount ?? 1) > 1).length,
    problems: [...stack.unexpectedExits, ...stack.protocolErrors(), ...run.problems].slice(0, 10),
  };
}

function faultCounts(run: SoakRun): SoakResult['faults'] {
  const { options, plan, stack, injected } = run;
  // Handler exceptions are counted where they happened: calls that failed with the injected fault.
  const handlerExceptions = new Set(
    stack.events
      .filter((e) => e.outcome === 'failed' && e.error?.includes('injected fault') === true)
      .map((e) => e.messageId),
  ).size;
  return {
    hostKill: { planned: options.hostKills, injected: injected.hostKill },
    hostStop: { planned: options.hostStops, injected: injected.hostStop },
    storageOutage: { planned: options.storageOutages, injected: injected.storageOutage },
    emulatorRestart: {
      planned: options.emulatorRestarts,
      injected: injected.emulatorRestart,
      ...(options.emulatorRestarts === 0 ? { note: emulatorRestartSkipped } : {}),
    },
    handlerException: { planned: plan.handlerFaults.length, injected: handlerExceptions },
    duplicatePublish: {
      planned: injected.duplicatePublish,
      injected: injected.duplicatePublish,
      note: `${String(injected.duplicatePublish)} re-sends of ${String(plan.duplicateVictims.length)} events`,
    },
    poison: { planned: plan.poison.length, injected: injected.poison },
  };
}
