import { setMaxListeners } from 'node:events';
import { isServiceBusError, type ServiceBusReceivedMessage } from '@azure/service-bus';
import type { SessionReceiverLike } from './amqp/sessionReceiver';
import { describeError, isLockLost, pause } from './dispatch';
import { dispatchAndSettle, receiverOptions, type PumpOptions } from './settle';

interface HeldSession {
  receiver: SessionReceiverLike;
  /** The batch being handled (calls in flight and their settlement); undefined while waiting. */
  batch: Promise<unknown> | undefined;
  done: Promise<void>;
}

/**
 * The extension's session processor for single dispatch: up to maxConcurrentSessions sessions at
 * once, each accepted with acceptNextSession, messages handled one call at a time per session
 * (maxConcurrentCallsPerSession), the session closed after sessionIdleTimeout without a message,
 * locks renewed by the SDK up to maxAutoLockRenewalDuration, complete/abandon per autoComplete.
 */
export class SessionPump {
  readonly #o: PumpOptions;
  readonly #abort = new AbortController();
  readonly #held = new Set<HeldSession>();
  #slots: Promise<void>[] = [];
  #stopping = false;
  /** Resolves once stop() saw every call in flight settle: receivers close only after that. */
  #settled: Promise<void> = Promise.resolve();
  /** Accept failures shared by every slot, so an outage is logged once, not once per slot and retry. */
  #outage: { since: number; attempts: number; reported: string; reportedAt: number } | undefined;

  /** A method, not the field: the flag flips while these loops await. */
  #isStopping(): boolean {
    return this.#stopping;
  }

  constructor(options: PumpOptions) {
    this.#o = options;
    // Every slot's back-off pause listens on the one abort signal.
    setMaxListeners(options.options.maxConcurrentSessions + 16, this.#abort.signal);
  }

  start(): void {
    for (let i = 0; i < this.#o.options.maxConcurrentSessions; i++) this.#slots.push(this.#runSlot());
  }

  /**
   * The extension's stop order: no new session or message is taken, the calls in flight finish and
   * settle, and only then does every receiver close (a session closing while another one still
   * settles races on the shared connection). A message that reaches a waiting receiver meanwhile is
   * handed back unprocessed. A pending acceptNextSession ignores its abort signal, so it ends only
   * when the client closes: await `settled()` after that.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    let settledNow: () => void = () => undefined;
    this.#settled = new Promise((resolve) => (settledNow = resolve));
    for (let batches = this.#batches(); batches.length > 0; batches = this.#batches()) await Promise.all(batches);
    settledNow();
    const held = [...this.#held];
    this.#held.clear();
    await Promise.all(held.map((h) => h.receiver.close().catch(() => undefined)));
    await Promise.all(held.map((h) => h.done));
  }

  #batches(): Promise<unknown>[] {
    return [...this.#held].flatMap((h) => (h.batch === undefined ? [] : [h.batch]));
  }

  /** A crash: every session is dropped at once; in-flight calls can no longer settle their messages. */
  async abort(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    await Promise.all([...this.#held].map((h) => h.receiver.close().catch(() => undefined)));
  }

  async settled(): Promise<void> {
    await Promise.all(this.#slots);
  }

  #accept(): Promise<SessionReceiverLike> {
    const { target, options, client, acceptSession } = this.#o;
    if (acceptSession !== undefined) return acceptSession();
    if (target.queueName !== undefined) return client.acceptNextSession(target.queueName, receiverOptions(options));
    return client.acceptNextSession(target.topicName ?? '', target.subscriptionName ?? '', receiverOptions(options));
  }

  async #runSlot(): Promise<void> {
    let failures = 0;
    while (!this.#isStopping()) {
      let receiver: SessionReceiverLike;
      try {
        receiver = await this.#accept();
        failures = 0;
        this.#acceptRecovered();
      } catch (error) {
        if (this.#isStopping()) return;
        // No session free within the try timeout: the processor simply asks again.
        if (isServiceBusError(error) && error.code === 'ServiceTimeout') {
          this.#acceptRecovered();
          continue;
        }
        failures++;
        this.#acceptFailed(error);
        await pause(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)), this.#abort.signal);
        continue;
      }
      if (this.#isStopping()) {
        // Accepted while stopping: closed once the calls in flight elsewhere have settled.
        await this.#settled;
        await receiver.close().catch(() => undefined);
        return;
      }
      this.#o.stats.sessionsActive++;
      this.#o.stats.sessionsAccepted++;
      this.#o.log(`session ${receiver.sessionId} accepted by ${this.#o.target.functionName}`);
      const held: HeldSession = { receiver, batch: undefined, done: Promise.resolve() };
      held.done = (async () => {
        try {
          await this.#runSession(held);
        } finally {
          this.#o.stats.sessionsActive--;
          // While stopping, stop() closes every receiver once all calls in flight have settled.
          if (!this.#isStopping()) {
            this.#held.delete(held);
            await receiver.close().catch(() => undefined);
          }
        }
      })();
      this.#held.add(held);
      await held.done;
    }
  }

  #acceptFailed(error: unknown): void {
    const { functionName, entity } = this.#o.target;
    const now = Date.now();
    const reason = describeError(error);
    const outage = (this.#outage ??= { since: now, attempts: 0, reported: '', reportedAt: 0 });
    outage.attempts++;
    // A new reason, or a reminder every 30 s while it lasts; each slot keeps retrying with its back-off.
    if (reason === outage.reported && now - outage.reportedAt < 30_000) return;
    outage.reported = reason;
    outage.reportedAt = now;
    this.#o.log(
      `${functionName}: accepting a session on ${entity} failed: ${reason} (${String(outage.attempts)} failed attempt(s) in ${String(now - outage.since)} ms; retrying with back-off)`,
    );
  }

  #acceptRecovered(): void {
    const outage = this.#outage;
    if (outage === undefined) return;
    this.#outage = undefined;
    this.#o.log(
      `${this.#o.target.functionName}: accepting sessions on ${this.#o.target.entity} again after ${String(outage.attempts)} failed attempt(s) over ${String(Date.now() - outage.since)} ms`,
    );
  }

  async #runSession(held: HeldSession): Promise<void> {
    const { options, stats, log } = this.#o;
    const { receiver } = held;
    const batchSize = Math.max(1, options.prefetchCount, options.maxConcurrentCallsPerSession);
    let handled = 0;
    while (!this.#isStopping()) {
      let batch: ServiceBusReceivedMessage[];
      try {
        batch = await receiver.receiveMessages(batchSize, { maxWaitTimeInMs: options.sessionIdleTimeoutMs });
      } catch (error) {
        if (this.#isStopping()) return;
        if (isLockLost(error)) {
          stats.sessionsLockLost++;
          log(`session ${receiver.sessionId} lock lost while waiting (${describeError(error)})`);
        } else log(`session ${receiver.sessionId} receive failed: ${describeError(error)}`);
        return;
      }
      if (batch.length === 0) {
        if (!this.#isStopping()) {
          stats.sessionsIdleClosed++;
          log(
            `session ${receiver.sessionId} idle-closed after ${options.sessionIdleTimeoutMs} ms without a message (${handled} handled)`,
          );
        }
        return;
      }
      stats.messagesReceived += batch.length;
      const handling = this.#handleBatch(receiver, batch);
      held.batch = handling.catch(() => undefined);
      try {
        const lost = await handling;
        handled += batch.length;
        if (lost) return;
      } finally {
        held.batch = undefined;
      }
    }
  }

  /** Returns true when the session lock was lost (the session must be given up). */
  async #handleBatch(receiver: SessionReceiverLike, batch: ServiceBusReceivedMessage[]): Promise<boolean> {
    const perSession = this.#o.options.maxConcurrentCallsPerSession;
    let lost = false;
    const queue = [...batch];
    const worker = async (): Promise<void> => {
      for (let message = queue.shift(); message !== undefined; message = queue.shift()) {
        if (lost) return;
        if (this.#isStopping()) {
          // Shutting down: hand not-yet-started messages back instead of starting new work.
          await receiver.abandonMessage(message).catch(() => undefined);
          continue;
        }
        if (await this.#handleMessage(receiver, message)) lost = true;
      }
    };
    await Promise.all(Array.from({ length: Math.min(perSession, batch.length) }, worker));
    return lost;
  }

  async #handleMessage(receiver: SessionReceiverLike, message: ServiceBusReceivedMessage): Promise<boolean> {
    const { stats, log } = this.#o;
    const settlement = await dispatchAndSettle(receiver, message, this.#o);
    if (settlement === undefined || settlement.settled) return false;
    const { action, error } = settlement;
    if (isLockLost(error)) {
      stats.sessionsLockLost++;
      log(
        `session ${receiver.sessionId} lock lost: could not ${action} message ${String(message.sequenceNumber)} (${describeError(error)})`,
      );
      return true;
    }
    log(`session ${receiver.sessionId}: ${action} failed: ${describeError(error)}`);
    return true;
  }
}
