import { isServiceBusError } from '@azure/service-bus';
import type { TraceCarrier } from '../trace';
import type { TypedData } from '../../worker/contract';
import type { ServiceBusStats } from '../types';

/** Facts about one message, for the invocation log and events. */
export interface MessageFacts {
  sessionId: string | undefined;
  sequenceNumber: number | undefined;
  messageId: string | undefined;
  deliveryCount: number;
  /** The message's trace context (`traceparent`, else `Diagnostic-Id`): the parent of the host's span for the call. */
  trace?: TraceCarrier;
}

/** Runs the function for one message; rejects when the function failed. */
export type MessageDispatcher = (
  functionName: string,
  trigger: TypedData,
  triggerMetadata: Record<string, TypedData>,
  facts: MessageFacts,
) => Promise<void>;

export interface TriggerTarget {
  functionName: string;
  /** `queue` or `topic/Subscriptions/subscription`, for logs. */
  entity: string;
  queueName?: string;
  topicName?: string;
  subscriptionName?: string;
  /** The function's `autoCompleteMessages` binding option, else host.json's. */
  autoComplete: boolean;
  dataType: unknown;
}

export function emptyServiceBusStats(): ServiceBusStats {
  return {
    sessionsActive: 0,
    sessionsAccepted: 0,
    sessionsIdleClosed: 0,
    sessionsLockLost: 0,
    messagesReceived: 0,
    messagesCompleted: 0,
    messagesAbandoned: 0,
  };
}

export function isLockLost(error: unknown): boolean {
  return isServiceBusError(error) && (error.code === 'SessionLockLost' || error.code === 'MessageLockLost');
}

export function describeError(error: unknown): string {
  if (isServiceBusError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** Resolves after `ms`, or early when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
