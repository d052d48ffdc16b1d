import type { ServiceBusClient, ServiceBusReceivedMessage } from '@azure/service-bus';
import type { SessionReceiverLike } from './amqp/sessionReceiver';
import type { ServiceBusOptions } from '../hostConfig';
import type { ServiceBusStats } from '../types';
import type { MessageDispatcher, TriggerTarget } from './dispatch';
import { messageFacts, triggerInput, triggerMetadata } from './metadata';

/** What both processors (QueuePump, SessionPump) are built from. */
export interface PumpOptions {
  client: ServiceBusClient;
  target: TriggerTarget;
  options: ServiceBusOptions;
  dispatch: MessageDispatcher;
  stats: ServiceBusStats;
  log: (line: string) => void;
  /** Session triggers on the emulator: accept on rhea instead of the SDK (amqp/sessionReceiver.ts). */
  acceptSession?: () => Promise<SessionReceiverLike>;
}

/** Peek-lock with SDK lock renewal, and the raw body: the host converts it as the extension does. */
export function receiverOptions(options: ServiceBusOptions): {
  receiveMode: 'peekLock';
  maxAutoLockRenewalDurationInMs: number;
  skipParsingBodyAsJson: true;
  skipConvertingDate: true;
} {
  return {
    receiveMode: 'peekLock',
    maxAutoLockRenewalDurationInMs: options.maxAutoLockRenewalDurationMs,
    skipParsingBodyAsJson: true,
    skipConvertingDate: true,
  };
}

/** `settled: false` when completing or abandoning failed: the caller decides what that means for its receiver. */
export type Settlement =
  | { action: 'complete' | 'abandon'; settled: true }
  | { action: 'complete' | 'abandon'; settled: false; error: unknown };

/**
 * Runs the function for one message, then, with autoComplete on, completes it on success or abandons
 * it on a thrown error, as the extension does. Undefined when the function settles its own messages.
 */
export async function dispatchAndSettle(
  receiver: Pick<SessionReceiverLike, 'completeMessage' | 'abandonMessage'>,
  message: ServiceBusReceivedMessage,
  { target, dispatch, stats }: PumpOptions,
): Promise<Settlement | undefined> {
  let failed = false;
  try {
    await dispatch(
      target.functionName,
      triggerInput(message, target.dataType),
      triggerMetadata(message, target.functionName),
      messageFacts(message),
    );
  } catch {
    failed = true;
  }
  if (!target.autoComplete) return undefined;
  const action = failed ? 'abandon' : 'complete';
  try {
    if (failed) {
      await receiver.abandonMessage(message);
      stats.messagesAbandoned++;
    } else {
      await receiver.completeMessage(message);
      stats.messagesCompleted++;
    }
    return { action, settled: true };
  } catch (error) {
    return { action, settled: false, error };
  }
}
