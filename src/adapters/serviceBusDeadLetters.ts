import type { ServiceBusClient, ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import Long from 'long';
import type { DeadLetter, DeadLetterQueue, DeadLetterScan, LockedDeadLetter, LockedDeadLetters } from './ports';

/**
 * The order-events queue's dead-letter sub-queue, read with the SDK. It is not session-enabled, so
 * a basket's messages are found by scanning (bounded) and filtering on their session id; the broker
 * cannot lock a chosen message by sequence number, so replay locks the scanned prefix, keeps the
 * basket's messages and gives the others back at once.
 */

/** Messages per peek or receive call. */
const pageSize = 100;
/** How long an empty receive waits before the scan concludes nothing more is visible. */
const emptyReceiveWaitMs = 1_000;

export class ServiceBusDeadLetterQueue implements DeadLetterQueue {
  constructor(
    private readonly client: () => ServiceBusClient,
    private readonly queueName: string,
  ) {}

  async peek(sessionId: string | undefined, maxScanned: number): Promise<DeadLetterScan> {
    const receiver = this.receiver();
    try {
      const messages: DeadLetter[] = [];
      let scanned = 0;
      // Always from an explicit position: without one the SDK continues from the last peek of ANY
      // receiver of this entity on the connection (its management link keeps the cursor).
      let from = Long.ONE;
      for (;;) {
        const want = Math.min(pageSize, maxScanned - scanned);
        const page = want > 0 ? await receiver.peekMessages(want, { fromSequenceNumber: from }) : [];
        scanned += page.length;
        for (const message of page) {
          if (sessionId === undefined || message.sessionId === sessionId) messages.push(deadLetterOf(message));
          if (message.sequenceNumber !== undefined) from = message.sequenceNumber.add(1);
        }
        if (page.length === 0) return { messages, scanned, complete: true };
        if (scanned >= maxScanned) {
          const more = await receiver.peekMessages(1, { fromSequenceNumber: from });
          return { messages, scanned, complete: more.length === 0 };
        }
      }
    } finally {
      await receiver.close();
    }
  }

  async lockSession(sessionId: string, maxScanned: number): Promise<LockedDeadLetters> {
    const seen = await this.peek(sessionId, maxScanned);
    const wanted = new Set(seen.messages.map((letter) => letter.serviceSequenceNumber));
    const receiver = this.receiver();
    const locked: { message: ServiceBusReceivedMessage; settled: boolean }[] = [];
    const others: ServiceBusReceivedMessage[] = [];
    let scanned = 0;
    try {
      while (locked.length < wanted.size && scanned < maxScanned) {
        const batch = await receiver.receiveMessages(Math.min(pageSize, maxScanned - scanned), {
          maxWaitTimeInMs: emptyReceiveWaitMs,
        });
        if (batch.length === 0) break;
        scanned += batch.length;
        for (const message of batch) {
          // Held until the scan ends: an abandoned message would be received again by the next call.
          if (wanted.has(sequenceOf(message))) locked.push({ message, settled: false });
          else others.push(message);
        }
      }
    } catch (error) {
      await giveBack(receiver, [...others, ...locked.map(({ message }) => message)]);
      await receiver.close();
      throw error;
    } finally {
      await giveBack(receiver, others);
    }
    return {
      messages: seen.messages,
      scanned: seen.scanned,
      complete: seen.complete,
      locked: locked.map((entry): LockedDeadLetter => ({
        letter: deadLetterOf(entry.message),
        body: entry.message.body,
        complete: async () => {
          await receiver.completeMessage(entry.message);
          entry.settled = true;
        },
      })),
      release: async () => {
        await giveBack(
          receiver,
          locked.filter(({ settled }) => !settled).map(({ message }) => message),
        );
        await receiver.close();
      },
    };
  }

  private receiver(): ServiceBusReceiver {
    return this.client().createReceiver(this.queueName, { subQueueType: 'deadLetter', receiveMode: 'peekLock' });
  }
}

/** Abandons each message; one that cannot be given back reappears when its lock expires anyway. */
async function giveBack(receiver: ServiceBusReceiver, messages: ServiceBusReceivedMessage[]): Promise<void> {
  // Emptied first, so each message is given back once whichever path calls this.
  const batch = messages.splice(0);
  await Promise.allSettled(batch.map((message) => receiver.abandonMessage(message)));
}

function sequenceOf(message: ServiceBusReceivedMessage): string {
  return message.sequenceNumber?.toString() ?? 'unknown';
}

function deadLetterOf(message: ServiceBusReceivedMessage): DeadLetter {
  const { sequence, type } = eventFacts(message);
  return {
    serviceSequenceNumber: sequenceOf(message),
    messageId: message.messageId === undefined ? '' : String(message.messageId),
    ...(message.sessionId === undefined ? {} : { sessionId: message.sessionId }),
    ...(sequence === undefined ? {} : { sequence }),
    ...(type === undefined ? {} : { type }),
    ...(message.deadLetterReason === undefined ? {} : { reason: message.deadLetterReason }),
    ...(message.deadLetterErrorDescription === undefined ? {} : { description: message.deadLetterErrorDescription }),
    deliveryCount: message.deliveryCount ?? 0,
    ...(message.enqueuedTimeUtc === undefined ? {} : { enqueuedAt: message.enqueuedTimeUtc.toISOString() }),
  };
}

/** The event's sequence and type, as the producer labelled them (application properties) or the body says. */
function eventFacts(message: ServiceBusReceivedMessage): { sequence?: number; type?: string } {
  const properties = message.applicationProperties ?? {};
  const body: unknown = message.body;
  const isObject = typeof body === 'object' && body !== null;
  const sequence = properties.sequence ?? (isObject && 'sequence' in body ? body.sequence : undefined);
  const type = properties.eventType ?? message.subject ?? (isObject && 'type' in body ? body.type : undefined);
  return {
    ...(typeof sequence === 'number' && Number.isInteger(sequence) ? { sequence } : {}),
    ...(typeof type === 'string' ? { type } : {}),
  };
}

/**
 * Order views peek at the dead-letter queue on every GET; pollers (the bench, dashboards) would each
 * scan it. This shares one whole-queue scan among the views asked within `maxAgeMs` and filters it
 * per basket. Replay and the listings use the queue directly, so they always see the present.
 */
export class SharedDeadLetterScan implements DeadLetterQueue {
  private latest: { at: number; maxScanned: number; scan: Promise<DeadLetterScan> } | undefined;

  constructor(
    private readonly queue: DeadLetterQueue,
    private readonly maxAgeMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  async peek(sessionId: string | undefined, maxScanned: number): Promise<DeadLetterScan> {
    const now = this.clock();
    const latest = this.latest;
    const fresh = latest !== undefined && now - latest.at < this.maxAgeMs && latest.maxScanned === maxScanned;
    const scan = fresh ? latest.scan : this.queue.peek(undefined, maxScanned);
    if (!fresh) {
      this.latest = { at: now, maxScanned, scan };
      // A failed scan is not shared: the next view asks again.
      scan.catch(() => {
        if (this.latest?.scan === scan) this.latest = undefined;
      });
    }
    const whole = await scan;
    return {
      ...whole,
      messages: whole.messages.filter((letter) => sessionId === undefined || letter.sessionId === sessionId),
    };
  }

  lockSession(sessionId: string, maxScanned: number): Promise<LockedDeadLetters> {
    return this.queue.lockSession(sessionId, maxScanned);
  }
}
