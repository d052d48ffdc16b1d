/**
 * Reference consumer for bench:processor (`--reference js-sdk`): the JS Service Bus SDK used the way
 * the local host's SessionPump uses it (same client options, acceptNextSession, receiveMessages with
 * sessionIdleTimeout, complete, close), with a null handler and none of the host's layers. Its drain
 * is the floor for a host built on the SDK.
 */
import { isServiceBusError, type ServiceBusSessionReceiver } from '@azure/service-bus';
import {
  acceptWindowMs,
  createClient,
  receiverOptions,
  tuneClientSocketsForAmqp,
} from '@convoy/functions-host/internal';
import { DrainTally, readDrainSpec, requireSimpleSessionSettings } from './drainTally';

async function main(): Promise<void> {
  const spec = readDrainSpec(process.argv.slice(2));
  const options = spec.serviceBus;
  requireSimpleSessionSettings(options, 'The JS SDK reference consumer');
  tuneClientSocketsForAmqp();
  const client = createClient(
    { kind: 'connectionString', connectionString: spec.connectionString },
    options,
    Math.min(acceptWindowMs, options.retry.tryTimeoutMs),
  );
  const tally = new DrainTally(spec.events);

  const drainSession = async (receiver: ServiceBusSessionReceiver): Promise<void> => {
    for (;;) {
      const batch = await receiver.receiveMessages(1, { maxWaitTimeInMs: options.sessionIdleTimeoutMs });
      if (batch.length === 0) return;
      for (const message of batch) {
        tally.handle(receiver.sessionId, message.messageId);
        try {
          await receiver.completeMessage(message);
        } finally {
          tally.settled(receiver.sessionId);
        }
      }
    }
  };
  const slot = async (): Promise<void> => {
    for (;;) {
      let receiver: ServiceBusSessionReceiver;
      try {
        receiver = await client.acceptNextSession(spec.queue, receiverOptions(options));
      } catch (error) {
        if (!(isServiceBusError(error) && error.code === 'ServiceTimeout')) tally.error();
        continue;
      }
      tally.sessionAccepted();
      try {
        await drainSession(receiver);
      } catch {
        tally.error();
      } finally {
        await receiver.close().catch(() => undefined);
      }
    }
  };
  for (let i = 0; i < options.maxConcurrentSessions; i++) void slot();
  const drained = await tally.report(spec);
  process.exit(drained ? 0 : 2);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
