/** RPC-shaped typed data, as the Functions host sends it to the Node worker. */
export type TypedData = { string: string } | { json: string } | { bytes: Uint8Array };

/** One function as registered through @azure/functions-core registerFunction(metadata, callback). */
export interface RegisteredFunctionInfo {
  name: string;
  /** binding name -> binding metadata as registered, e.g. { type: 'orchestrationTrigger', direction: 'in', ... } */
  bindings: Record<string, { type: string; direction: string; [key: string]: unknown }>;
}

/**
 * Invoke a registered function through the library's own invocation model (same path as in Azure).
 * `trigger` becomes the inputData entry of the function's trigger binding; `extraInputs` fills other
 * input bindings by binding name. Resolves to the function's return value decoded from TypedData
 * (json -> parsed value, string -> string, none -> undefined); rejects if the handler threw.
 */
export type InvokeFunction = (
  functionName: string,
  trigger: TypedData,
  options?: { triggerMetadata?: Record<string, TypedData>; extraInputs?: Record<string, TypedData> },
) => Promise<unknown>;

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
