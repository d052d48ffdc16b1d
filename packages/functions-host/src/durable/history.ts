/**
 * History events in the JSON form the Durable Task Framework persists and the durable-functions
 * library replays (PascalCase properties, numeric EventType; see durable-functions lib/src/history).
 */

export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
} as const;

/** The failure shape the library turns into a TaskFailedError (its FailureDetailsPayload). */
export interface FailureDetails {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string;
  IsNonRetriable: boolean;
  Properties?: Record<string, unknown>;
}

interface Base {
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
}

export type HistoryEvent =
  | (Base & {
      EventType: typeof EventType.ExecutionStarted;
      Name: string;
      Version: string;
      Input: string | null;
      OrchestrationInstance: { InstanceId: string; ExecutionId: string };
      ParentInstance: { Name: string; OrchestrationInstance: { InstanceId: string }; TaskScheduleId: number } | null;
    })
  | (Base & {
      EventType: typeof EventType.ExecutionCompleted;
      OrchestrationStatus: 'Completed' | 'Failed';
      Result: string | null;
      FailureDetails?: FailureDetails;
    })
  | (Base & { EventType: typeof EventType.ExecutionTerminated; Input: string | null })
  | (Base & { EventType: typeof EventType.TaskScheduled; Name: string; Version: string; Input: string | null })
  | (Base & { EventType: typeof EventType.TaskCompleted; TaskScheduledId: number; Result: string })
  | (Base & {
      EventType: typeof EventType.TaskFailed;
      TaskScheduledId: number;
      Reason: string;
      Details: string;
      FailureDetails?: FailureDetails;
    })
  | (Base & {
      EventType: typeof EventType.SubOrchestrationInstanceCreated;
      Name: string;
      Version: string;
      InstanceId: string;
      Input: string | null;
    })
  | (Base & { EventType: typeof EventType.SubOrchestrationInstanceCompleted; TaskScheduledId: number; Result: string })
  | (Base & {
      EventType: typeof EventType.SubOrchestrationInstanceFailed;
      TaskScheduledId: number;
      Reason: string;
      Details: string;
    })
  | (Base & { EventType: typeof EventType.TimerCreated; FireAt: string })
  | (Base & { EventType: typeof EventType.TimerFired; TimerId: number; FireAt: string })
  | (Base & { EventType: typeof EventType.OrchestratorStarted })
  | (Base & { EventType: typeof EventType.OrchestratorCompleted })
  | (Base & { EventType: typeof EventType.EventSent; InstanceId: string; Name: string; Input: string })
  | (Base & { EventType: typeof EventType.EventRaised; Name: string; Input: string | null });

/** Distributive Omit, so each union member keeps its own fields. */
type WithoutBase<T> = T extends unknown ? Omit<T, keyof Base> : never;
export type NewHistoryEvent = WithoutBase<HistoryEvent>;

/** Stamps an event; EventId is the task sequence number for scheduling events and -1 for the rest (as in DTFx). */
export function stamp(event: NewHistoryEvent, timestamp: Date, eventId = -1): HistoryEvent {
  return { ...event, EventId: eventId, IsPlayed: false, Timestamp: timestamp.toISOString() };
}
