import { z } from 'zod';
import type { InvocationEvent, ServiceBusStats } from '@convoy/functions-host';

/** The messages between a test/bench process and the host child (test/harness/hostChild.ts). */

export const faultSchema = z.strictObject({
  /** The Service Bus message id (the app's eventId, "<basketId>:<sequence>"). */
  messageId: z.string().min(1),
  /** before: throw instead of running the handler; after: run it (state saved), then throw. */
  when: z.enum(['before', 'after']),
});
export type Fault = z.infer<typeof faultSchema>;

const childConfigSchema = z.strictObject({
  appRoot: z.string().min(1),
  settings: z.record(z.string(), z.string()),
  hostJson: z.unknown(),
  handlerCostMs: z.number().min(0).default(0),
  costFunction: z.string().default('processOrderEvent'),
  faults: z.array(faultSchema).default([]),
  verbose: z.boolean().default(false),
  /** The durable backend's folder: orchestrations and entities survive a kill of the host. */
  durableDataDir: z.string().min(1).optional(),
});
export type ChildConfig = z.input<typeof childConfigSchema>;

export function parseChildConfig(text: string | undefined): z.output<typeof childConfigSchema> {
  if (text === undefined) throw new Error('CONVOY_HOST_CONFIG is not set.');
  return childConfigSchema.parse(JSON.parse(text));
}

export const invocationEventSchema = z.object({
  functionName: z.string(),
  invocationId: z.string(),
  triggerType: z.string(),
  sessionId: z.string().optional(),
  sequenceNumber: z.number().optional(),
  messageId: z.string().optional(),
  deliveryCount: z.number().optional(),
  startedAt: z.number(),
  endedAt: z.number(),
  durationMs: z.number(),
  outcome: z.enum(['succeeded', 'failed']),
  error: z.string().optional(),
}) satisfies z.ZodType<InvocationEvent>;

const serviceBusStatsSchema = z.object({
  sessionsActive: z.number(),
  sessionsAccepted: z.number(),
  sessionsIdleClosed: z.number(),
  sessionsLockLost: z.number(),
  messagesReceived: z.number(),
  messagesCompleted: z.number(),
  messagesAbandoned: z.number(),
}) satisfies z.ZodType<ServiceBusStats>;

const parentMessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ready'), url: z.string() }),
  /** Invocations in the order they ended, batched (test/harness/hostChild.ts says when a batch goes). */
  z.object({ kind: z.literal('invocations'), events: z.array(invocationEventSchema) }),
  z.object({ kind: z.literal('stopped') }),
  z.object({ kind: z.literal('log'), lines: z.array(z.string()) }),
  z.object({
    kind: z.literal('stats'),
    serviceBus: serviceBusStatsSchema,
    /** Outgoing HTTP requests of the host process so far, by target and operation (test/harness/httpTally.ts). */
    http: z.record(z.string(), z.number()),
  }),
]);
/** What the child sends to the parent. */
export type ParentMessage = z.infer<typeof parentMessageSchema>;

export function toParentMessage(message: ParentMessage): ParentMessage {
  return message;
}

export function parseParentMessage(raw: unknown): ParentMessage {
  return parentMessageSchema.parse(raw);
}

const commandSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('stop') }),
  z.object({ kind: z.literal('dumpLog') }),
  z.object({ kind: z.literal('stats') }),
]);
/** What the parent sends to the child. */
export type ParentCommand = z.infer<typeof commandSchema>;

export function parseCommand(raw: unknown): ParentCommand | undefined {
  const parsed = commandSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
