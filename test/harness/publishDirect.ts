import { ServiceBusClient, type ServiceBusMessage, type ServiceBusSender } from '@azure/service-bus';
import { toServiceBusMessage } from '../../src/adapters/serviceBusPublisher';
import { basketEvents, interleave } from '../../src/application/testSessions';
import type { PlannedRun } from './baskets';
import { orderEventsQueue } from './stack';

/**
 * Publishes S × E bare messages (sessionId = basket, messageId = "<basket>:<sequence>"),
 * interleaved across baskets like POST /api/sessions does, in as few batches as fit.
 */
export async function publishDirect(
  connectionString: string,
  basketIds: readonly string[],
  eventsPerBasket: number,
): Promise<void> {
  const client = new ServiceBusClient(connectionString);
  try {
    const sender = client.createSender(orderEventsQueue);
    const messages: ServiceBusMessage[] = [];
    for (let sequence = 1; sequence <= eventsPerBasket; sequence++) {
      for (const basketId of basketIds) {
        messages.push({
          sessionId: basketId,
          messageId: `${basketId}:${String(sequence)}`,
          body: { basketId, sequence },
        });
      }
    }
    await sendInBatches(sender, messages);
  } finally {
    await client.close();
  }
}

/**
 * Publishes a planned run's events from this process, built as POST /api/sessions builds them (its own
 * basketEvents and interleave, then the publisher's toServiceBusMessage), so the host under test spends
 * nothing on producing: the convoy row of a bench then pays for the same publish path as the null row.
 */
export async function publishRunDirect(connectionString: string, run: PlannedRun): Promise<void> {
  const start = new Date();
  const perBasket = run.request.baskets.map((basket) => basketEvents(basket, start, undefined));
  const ordered = run.request.interleave ? interleave(perBasket) : perBasket.flat();
  const client = new ServiceBusClient(connectionString);
  try {
    await sendInBatches(
      client.createSender(orderEventsQueue),
      ordered.map(({ event }) => toServiceBusMessage(event)),
    );
  } finally {
    await client.close();
  }
}

/**
 * Sends in order, in as few batches as fit; a message too large for an empty batch is an error.
 * `retry` (optional) is asked after a failed step whether to try that step again (it waits first);
 * a batch sent twice after an ambiguous failure is absorbed by the queue's duplicate detection.
 */
export async function sendInBatches(
  sender: ServiceBusSender,
  messages: readonly ServiceBusMessage[],
  retry?: (error: unknown) => Promise<boolean>,
): Promise<void> {
  const attempt = async <T>(step: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await step();
      } catch (error) {
        if (retry === undefined || !(await retry(error))) throw error;
      }
    }
  };
  let batch = await attempt(() => sender.createMessageBatch());
  for (const message of messages) {
    if (batch.tryAddMessage(message)) continue;
    const full = batch;
    await attempt(() => sender.sendMessages(full));
    batch = await attempt(() => sender.createMessageBatch());
    if (!batch.tryAddMessage(message)) throw new Error(`message ${String(message.messageId)} does not fit a batch`);
  }
  const last = batch;
  if (last.count > 0) await attempt(() => sender.sendMessages(last));
}
