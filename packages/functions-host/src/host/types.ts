/** What the local host records about every invocation (enough to prove order and no overlap). */
export interface InvocationEvent {
  functionName: string;
  invocationId: string;
  /** Trigger binding type, e.g. 'serviceBusTrigger', 'httpTrigger', 'activityTrigger'. */
  triggerType: string;
  sessionId?: string;
  sequenceNumber?: number;
  messageId?: string;
  /** As the host reports it: 1 on the first delivery. */
  deliveryCount?: number;
  /** Epoch milliseconds with sub-millisecond precision (performance clock). */
  startedAt: number;
  endedAt: number;
  durationMs: number;
  outcome: 'succeeded' | 'failed';
  error?: string;
}

export interface ServiceBusStats {
  /** Sessions held right now, over every session-enabled function. */
  sessionsActive: number;
  sessionsAccepted: number;
  sessionsIdleClosed: number;
  sessionsLockLost: number;
  messagesReceived: number;
  messagesCompleted: number;
  messagesAbandoned: number;
}

export interface HostStats {
  invocations: {
    total: number;
    succeeded: number;
    failed: number;
    inFlight: number;
    byFunction: Record<string, number>;
  };
  serviceBus: ServiceBusStats;
  /** Present when the app registers durable functions or durable clients. */
  durable?: { orchestrations: Record<string, number>; entities: number; pendingWork: number };
}
