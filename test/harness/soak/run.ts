import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceBusClient, type ServiceBusMessage } from '@azure/service-bus';
import { z } from 'zod';
import { fulfillmentInstanceId, fulfillOrderOrchestration } from '../../../src/adapters/durableFulfillment';
import { eventIdFor } from '../../../src/domain/events';
import { finalStatuses, getOrders, type OrderView } from '../convoyClient';
import type { Fault } from '../hostProtocol';
import { sendInBatches } from '../publishDirect';
import { orderEventsQueue } from '../stack';
import { interleave, pick, planBaskets, planPoison, seededRandom, type PlannedBasket } from './plan';
import { startSoakStack, type SoakStack } from './stack';

/**
 * The fault soak: baskets published in waves straight to the emulator while a seeded schedule of
 * faults hits the host, storage and the producer; then every basket's applied log and every
 * published message is checked against what was published.
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

const consumer = 'processOrderEvent';

/** The table's note when the run has no emulator restart (`--emulator-restarts 0`). */
export const emulatorRestartSkipped = 'off for this run (--emulator-restarts 0)';

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const startedAt = Date.now();
  const deadline = startedAt + options.timeoutMs;
  const random = seededRandom(options.seed);
  const prefix = `soak${String(options.seed)}`;
  const baskets = planBaskets(prefix, options.baskets, random);
  const poison = planPoison(prefix, options.poison);
  const byId = new Map(baskets.map((b) => [b.basketId, b]));
  const allEvents = baskets.flatMap((b) => b.messages);
  const faultVictims = pick(allEvents, options.handlerExceptions, random);
  const faults: Fault[] = faultVictims.map((m, i) => ({
    messageId: String(m.messageId),
    when: i % 2 === 0 ? 'before' : 'after',
  }));
  const duplicateVictims = pick(allEvents, options.duplicates, random);
  const hostStopMs = options.lockDurationMs + 5_000;

  const disruptive: FaultKind[] = [
    ...Array<FaultKind>(options.hostKills).fill('hostKill'),
    ...Array<FaultKind>(options.hostStops).fill('hostStop'),
    ...Array<FaultKind>(options.storageOutages).fill('storageOutage'),
    ...Array<FaultKind>(options.emulatorRestarts).fill('emulatorRestart'),
  ];
  // Each fault waits until a seeded share (20-60 %) of the chunk before it is complete, so it hits work in flight.
  const schedule = pick(disruptive, disruptive.length, random).map((kind) => ({ kind, share: 0.2 + 0.4 * random() }));
  // Two chunks per fault (one before it, one published while it lasts) and a last one after the schedule.
  const chunkCount = 2 * schedule.length + 1;
  const chunks: PlannedBasket[][] = Array.from({ length: chunkCount }, (_, c) =>
    baskets.slice(Math.floor((c * baskets.length) / chunkCount), Math.floor(((c + 1) * baskets.length) / chunkCount)),
  );
  const poisonPerChunk = Math.ceil(poison.length / chunkCount);
  const injected: Record<FaultKind, number> = {
    hostKill: 0,
    hostStop: 0,
    storageOutage: 0,
    emulatorRestart: 0,
    handlerException: 0,
    duplicatePublish: 0,
    poison: 0,
  };

  options.log(
    `soak seed ${String(options.seed)}: ${String(baskets.length)} baskets in ${String(chunkCount)} chunks, ${String(poison.length)} poison, ${String(duplicateVictims.length)} duplicates, ${String(faults.length)} handler exceptions; faults ${schedule.map((f) => f.kind).join(', ') || 'none'}; lock ${String(options.lockDurationMs)} ms, outage ${String(options.outageMs)} ms`,
  );
  const stack = await startSoakStack({
    lockDurationMs: options.lockDurationMs,
    faults,
    verbose: options.verbose,
    log: options.log,
  });
  // Sends during an emulator restart retry every second rather than the SDK's default 30 s.
  const client = new ServiceBusClient(stack.emulator.connectionString, {
    retryOptions: { maxRetries: 60, retryDelayInMs: 1_000 },
  });
  const problems: string[] = [];
  try {
    const sender = client.createSender(orderEventsQueue);
    // A producer keeps trying: a connect made while the emulator restarts fails outright (not retried by the SDK).
    let sendRetries = 0;
    const retrySend = async (error: unknown): Promise<boolean> => {
      if (Date.now() > deadline) return false;
      sendRetries++;
      options.log(`  send failed (${error instanceof Error ? error.message : String(error)}); retrying in 1 s`);
      await sleep(1_000);
      return true;
    };
    const send = (messages: ServiceBusMessage[]): Promise<void> => sendInBatches(sender, messages, retrySend);

    const done = new Set<string>();
    const lastOf = new Map(baskets.map((b) => [eventIdFor(b.basketId, b.lastSequence), b.basketId]));
    let seen = 0;
    const markDone = (): void => {
      for (const event of stack.events.slice(seen)) {
        if (event.functionName !== consumer || event.outcome !== 'succeeded' || event.messageId === undefined) continue;
        const basketId = lastOf.get(event.messageId);
        if (basketId !== undefined) done.add(basketId);
      }
      seen = stack.events.length;
    };

    let published = 0;
    const sent = new Set<string>();
    const resent = new Set<ServiceBusMessage>();
    const duplicateSends: ServiceBusMessage[] = [];
    const sendDuplicates = async (messages: ServiceBusMessage[]): Promise<void> => {
      await send(messages);
      for (const m of messages) resent.add(m);
      duplicateSends.push(...messages);
      injected.duplicatePublish += messages.length;
    };
    const publishChunk = async (c: number): Promise<void> => {
      const chunk = chunks[c] ?? [];
      const extra = poison.slice(c * poisonPerChunk, (c + 1) * poisonPerChunk).map((p) => p.message);
      await send([...interleave(chunk), ...extra]);
      for (const b of chunk) sent.add(b.basketId);
      injected.poison += extra.length;
      published += chunk.length;
      // Re-send (same message id) events already sent: the producer retry the broker must absorb.
      const due = duplicateVictims.filter((m) => sent.has(String(m.sessionId)) && !resent.has(m));
      const slice = due.slice(0, Math.ceil(duplicateVictims.length / chunkCount));
      if (slice.length > 0) await sendDuplicates(slice);
    };

    const progress = setInterval(() => {
      markDone();
      options.log(
        `  ${String(Math.round((Date.now() - startedAt) / 1000))} s: published ${String(published)}/${String(baskets.length)}, complete ${String(done.size)}, DLQ ${String(stack.dlqDepth())}, host #${String(stack.launches)}`,
      );
    }, 10_000);
    progress.unref();

    const faultLog: string[] = [];
    const inject = async (kind: FaultKind): Promise<void> => {
      if (kind === 'hostKill') {
        await stack.killAndRestartHost();
      } else if (kind === 'emulatorRestart') {
        await stack.restartEmulator(options.emulatorDownMs);
      } else if (kind === 'hostStop') {
        const pid = stack.host.pid;
        process.kill(pid, 'SIGSTOP');
        try {
          await sleep(hostStopMs);
        } finally {
          // A host that died meanwhile is already reported (unexpectedExits) and replaced.
          signalIfAlive(pid, 'SIGCONT');
        }
      } else {
        stack.cutStorage();
        try {
          await sleep(options.outageMs);
        } finally {
          stack.restoreStorage();
        }
      }
      injected[kind]++;
    };
    for (const [i, { kind, share }] of schedule.entries()) {
      const before = chunks[2 * i] ?? [];
      await publishChunk(2 * i);
      const waitUntil = Math.min(deadline, Date.now() + options.faultGapMs);
      const target = Math.ceil(before.length * share);
      for (;;) {
        markDone();
        if (before.filter((b) => done.has(b.basketId)).length >= target || Date.now() > waitUntil) break;
        await sleep(100);
      }
      const at = `${String(Math.round((Date.now() - startedAt) / 1000))} s`;
      faultLog.push(`${at}: ${kind} with ${String(published - done.size)} published baskets not complete`);
      options.log(`  fault at ${faultLog.at(-1) ?? ''}`);
      // The next chunk goes out while the fault lasts: it waits in the queue (or meets the fault).
      await Promise.all([inject(kind), publishChunk(2 * i + 1)]);
    }
    await publishChunk(chunkCount - 1);

    // The rest, and a quarter once more, after most originals were consumed (inside the 10-minute window).
    await sendDuplicates([
      ...duplicateVictims.filter((m) => !resent.has(m)),
      ...duplicateVictims.slice(0, Math.ceil(duplicateVictims.length / 4)),
    ]);

    // Drain, then recover what an operator would (dead letters; fulfillments lost with a killed host).
    const sessionIds = [
      ...baskets.map((b) => b.basketId),
      ...poison.filter((p) => p.kind === 'invalidEvent').map((p) => p.sessionId),
    ];
    const letters = new Map<string, { reason: string; replayed: boolean }>();
    let fulfillmentsResumed = 0;
    for (let round = 1; ; round++) {
      await drain(
        stack,
        () => {
          markDone();
          return done.size === baskets.length;
        },
        options.quietMs,
        deadline,
      );
      const found = await deadLetters(stack.host.url);
      for (const letter of found) {
        if (!letters.has(letter.messageId))
          letters.set(letter.messageId, { reason: letter.reason ?? 'no reason given', replayed: false });
      }
      const lettered = new Set(found.flatMap((l) => (l.sessionId === undefined ? [] : [l.sessionId])));
      for (const basketId of lettered) {
        const replay = await fetch(`${stack.host.url}/api/dead-letters/${encodeURIComponent(basketId)}/replay`, {
          method: 'POST',
          signal: AbortSignal.timeout(60_000),
        });
        const text = await replay.text();
        if (replay.status !== 200)
          problems.push(`replay of ${basketId} answered ${String(replay.status)}: ${text.slice(0, 200)}`);
        else
          for (const l of found)
            if (l.sessionId === basketId)
              letters.set(l.messageId, { reason: letters.get(l.messageId)?.reason ?? '', replayed: true });
      }
      markDone();
      const pending = baskets.filter((b) => !done.has(b.basketId)).map((b) => b.basketId);
      const orders = await getOrders(stack.host.url, pending);
      const lostFulfillments = [...orders].filter(
        ([id, o]) =>
          o?.status === 'Paid' && o.lastAppliedSequence === (byId.get(id)?.lastSequence ?? 0) - 1 && !lettered.has(id),
      );
      for (const [basketId] of lostFulfillments) {
        const basket = byId.get(basketId);
        if (basket === undefined) continue;
        await resumeFulfillment(stack.host.url, basket);
        fulfillmentsResumed++;
      }
      const notFinal = [...orders].filter(([, o]) => o === undefined || !finalStatuses.has(o.status)).length;
      options.log(
        `  recovery round ${String(round)}: ${String(pending.length)} not seen complete, ${String(notFinal)} not final; replayed dead letters of ${String(lettered.size)} baskets, resumed ${String(lostFulfillments.length)} fulfillments`,
      );
      if ((notFinal === 0 && lettered.size === 0) || Date.now() > deadline || round >= 5) break;
    }
    clearInterval(progress);

    // Verification: the app's own views, read after everything went quiet.
    const orders = await getOrders(stack.host.url, sessionIds);
    const quarantine = await quarantined(stack.host.url);
    const left = await deadLetters(stack.host.url);
    const leftIds = new Set(left.map((l) => l.messageId));

    let applied = 0;
    let appliedTwice = 0;
    let outOfOrder = 0;
    let stuck = 0;
    let lost = 0;
    let redeliveriesRecorded = 0;
    const appliedIds = new Set<string>();
    for (const basket of baskets) {
      const order = orders.get(basket.basketId);
      const ids = order?.applied.map((a) => a.eventId) ?? [];
      const expected = Array.from({ length: basket.lastSequence }, (_, k) => eventIdFor(basket.basketId, k + 1));
      const counts = new Map<string, number>();
      for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
      appliedTwice += [...counts.values()].filter((c) => c > 1).length;
      const sequences = order?.applied.map((a) => a.sequence) ?? [];
      if (sequences.some((s, i) => i > 0 && s <= (sequences[i - 1] ?? 0)) || sequences.some((s, i) => s !== i + 1))
        outOfOrder++;
      if (order === undefined || !finalStatuses.has(order.status)) {
        stuck++;
        if (problems.length < 10) problems.push(`stuck: ${describe(basket.basketId, order)}`);
      }
      redeliveriesRecorded += order?.duplicates.length ?? 0;
      for (const id of expected) {
        if (counts.has(id)) {
          applied++;
          appliedIds.add(id);
        } else if (!leftIds.has(id)) {
          lost++;
          if (problems.length < 10) problems.push(`lost: ${id} (${describe(basket.basketId, order)})`);
        }
      }
    }
    // A re-sent message is accounted for when its original was applied once.
    const duplicates = duplicateSends.filter((m) => appliedIds.has(String(m.messageId))).length;
    lost += duplicateSends.length - duplicates;
    let rejected = 0;
    let quarantinedCount = 0;
    for (const p of poison) {
      if (p.kind === 'invalidEvent') {
        const order = orders.get(p.sessionId);
        if (order?.rejected.some((r) => r.sequence === 1) === true) rejected++;
        else if (!leftIds.has(p.messageId)) {
          lost++;
          stuck++;
          if (problems.length < 10)
            problems.push(`poison ${p.messageId} not rejected: ${describe(p.sessionId, order)}`);
        }
      } else if (quarantine.has(p.messageId)) quarantinedCount++;
      else if (!leftIds.has(p.messageId)) {
        lost++;
        if (problems.length < 10) problems.push(`poison ${p.messageId} (${p.kind}) not in quarantine`);
      }
    }
    const reasons: Record<string, number> = {};
    for (const { reason } of letters.values()) reasons[reason] = (reasons[reason] ?? 0) + 1;
    injected.handlerException = new Set(
      stack.events
        .filter((e) => e.outcome === 'failed' && e.error?.includes('injected fault') === true)
        .map((e) => e.messageId),
    ).size;

    return {
      seed: options.seed,
      baskets: baskets.length,
      poisonSessions: poison.length,
      messages: allEvents.length + duplicateSends.length + poison.length + baskets.length,
      applied,
      duplicates,
      redeliveriesRecorded,
      rejected,
      quarantined: quarantinedCount,
      deadLettered: letters.size,
      deadLetterReasons: reasons,
      deadLetteredReplayed: [...letters.values()].filter((l) => l.replayed).length,
      deadLetteredLeft: left.length,
      lost,
      appliedTwice,
      outOfOrder,
      stuck,
      fulfillmentsResumed,
      faults: {
        hostKill: { planned: options.hostKills, injected: injected.hostKill },
        hostStop: { planned: options.hostStops, injected: injected.hostStop },
        storageOutage: { planned: options.storageOutages, injected: injected.storageOutage },
        emulatorRestart: {
          planned: options.emulatorRestarts,
          injected: injected.emulatorRestart,
          ...(options.emulatorRestarts === 0 ? { note: emulatorRestartSkipped } : {}),
        },
        handlerException: { planned: faults.length, injected: injected.handlerException },
        duplicatePublish: {
          planned: injected.duplicatePublish,
          injected: injected.duplicatePublish,
          note: `${String(injected.duplicatePublish)} re-sends of ${String(duplicateVictims.length)} events`,
        },
        poison: { planned: poison.length, injected: injected.poison },
      },
      outageMs: options.outageMs,
      emulatorDownMs: options.emulatorDownMs,
      hostStopMs,
      lockDurationMs: options.lockDurationMs,
      hostLaunches: stack.launches,
      hostCrashes: stack.unexpectedExits.length,
      protocolErrors: stack.protocolErrors().length,
      wallMs: Date.now() - startedAt,
      faultLog:
        sendRetries === 0
          ? faultLog
          : [...faultLog, `publisher: ${String(sendRetries)} send(s) retried after a failure`],
      failedCalls: stack.events.filter((e) => e.functionName === consumer && e.outcome === 'failed').length,
      redeliveries: stack.events.filter((e) => e.functionName === consumer && (e.deliveryCount ?? 1) > 1).length,
      problems: [...stack.unexpectedExits, ...stack.protocolErrors(), ...problems].slice(0, 10),
    };
  } finally {
    await client.close().catch(() => undefined);
    await stack.stop().catch((error: unknown) => {
      options.log(`stopping the stack: ${String(error)}`);
    });
  }
}

function describe(basketId: string, order: OrderView | undefined): string {
  if (order === undefined) return `${basketId}: no order`;
  return `${basketId}: ${order.status}, applied ${order.applied.map((a) => a.sequence).join(',') || '-'}, parked ${order.parked.map((p) => p.sequence).join(',') || '-'}, rejected ${order.rejected.map((r) => r.sequence).join(',') || '-'}`;
}

/** Waits until `complete()` or no invocation for quietMs (or the deadline). */
async function drain(stack: SoakStack, complete: () => boolean, quietMs: number, deadline: number): Promise<void> {
  let count = stack.events.length;
  let since = Date.now();
  while (!complete() && Date.now() - since < quietMs && Date.now() < deadline) {
    await sleep(500);
    if (stack.events.length !== count) {
      count = stack.events.length;
      since = Date.now();
    }
  }
}

const deadLetterListSchema = z.object({
  complete: z.boolean(),
  baskets: z.array(
    z.object({
      basketId: z.string().nullable(),
      messages: z.array(
        z.object({ messageId: z.string(), sessionId: z.string().optional(), reason: z.string().optional() }),
      ),
    }),
  ),
});

async function deadLetters(
  baseUrl: string,
): Promise<{ messageId: string; sessionId?: string | undefined; reason?: string | undefined }[]> {
  const response = await fetch(`${baseUrl}/api/dead-letters?scan=5000`, { signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET /api/dead-letters answered ${String(response.status)}: ${text}`);
  const list = deadLetterListSchema.parse(JSON.parse(text));
  return list.baskets.flatMap((b) => b.messages);
}

const quarantineSchema = z.object({ messages: z.array(z.object({ messageId: z.string() })) });

async function quarantined(baseUrl: string): Promise<Set<string>> {
  const response = await fetch(`${baseUrl}/api/quarantine?limit=1000`, { signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET /api/quarantine answered ${String(response.status)}: ${text}`);
  return new Set(quarantineSchema.parse(JSON.parse(text)).messages.map((m) => m.messageId));
}

/** The input processOrderEvent gives fulfillOrder: lines per SKU, InventoryUpdated after PaymentMade. */
async function resumeFulfillment(baseUrl: string, basket: PlannedBasket): Promise<void> {
  const input = { basketId: basket.basketId, lines: basket.lines, nextSequence: basket.lastSequence };
  const instanceId = encodeURIComponent(fulfillmentInstanceId(basket.basketId));
  const response = await fetch(
    `${baseUrl}/runtime/webhooks/durabletask/orchestrators/${fulfillOrderOrchestration}/${instanceId}`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) },
  );
  const text = await response.text();
  if (response.status !== 202)
    throw new Error(`starting fulfillOrder for ${basket.basketId} answered ${String(response.status)}: ${text}`);
}

function signalIfAlive(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
