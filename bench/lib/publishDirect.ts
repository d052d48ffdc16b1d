import { ServiceBusClient, type ServiceBusMessage, type ServiceBusSender } from '@azure/service-bus';
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

/** Sends in order, in as few batches as fit; a message too large for an empty batch is an error. */
export async function sendInBatches(sender: ServiceBusSender, messages: readonly ServiceBusMessage[]): Promise<void> {
  let batch = await sender.createMessageBatch();
  for (const message of messages) {
    if (batch.tryAddMessage(message)) continue;
    await sender.sendMessages(batch);
    batch = await sender.createMessageBatch();
    if (!batch.tryAddMessage(message)) throw new Error(`message ${String(message.messageId)} does not fit a batch`);
  }
  if (batch.count > 0) await sender.sendMessages(batch);
}
