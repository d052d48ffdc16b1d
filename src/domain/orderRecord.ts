import { z } from 'zod';
import {
  currencySchema,
  eventEnvelopeSchema,
  inventoryUpdatedDataSchema,
  itemAddedDataSchema,
  orderEventTypes,
} from './events';

/**
 * What the convoy keeps per basket: the order's state plus the bookkeeping that makes ordering and
 * idempotency hold under at-least-once delivery (last applied sequence, parked successors, and the
 * applied / rejected / duplicate logs an operator reads). Persisted as one entity per basket.
 */

export const orderStatuses = ['Open', 'CheckedOut', 'Paid', 'Fulfilled', 'Backordered', 'Blocked'] as const;
export type OrderStatus = (typeof orderStatuses)[number];

/** How a message reached the handler: the Service Bus facts worth keeping next to the event. */
export const deliverySchema = z.strictObject({
  messageId: z.string(),
  deliveryCount: z.number().int().min(0),
  /** The broker's sequence number (a 64-bit long, kept as a decimal string). */
  serviceSequenceNumber: z.string(),
  receivedAt: z.iso.datetime({ offset: true }),
  /** The W3C trace id of the call that received it (absent when no trace reached the call). */
  traceId: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .optional(),
});
export type Delivery = z.infer<typeof deliverySchema>;

export const appliedEntrySchema = z.strictObject({
  sequence: z.number().int(),
  type: z.enum(orderEventTypes),
  eventId: z.string(),
  occurredAt: z.string(),
  appliedAt: z.string(),
  deliveryCount: z.number().int(),
  serviceSequenceNumber: z.string(),
  /** The trace the applying message travelled in (publish → handler → fulfillment): for the console's timeline. */
  traceId: z.string().optional(),
});
export type AppliedEntry = z.infer<typeof appliedEntrySchema>;

export const parkedEntrySchema = z.strictObject({
  event: eventEnvelopeSchema,
  delivery: deliverySchema,
  parkedAt: z.string(),
});
export type ParkedEntry = z.infer<typeof parkedEntrySchema>;

export const rejectedEntrySchema = z.strictObject({
  sequence: z.number().int().optional(),
  type: z.string().optional(),
  eventId: z.string().optional(),
  reason: z.string(),
  rejectedAt: z.string(),
  deliveryCount: z.number().int(),
  serviceSequenceNumber: z.string(),
});
export type RejectedEntry = z.infer<typeof rejectedEntrySchema>;

export const duplicateEntrySchema = z.strictObject({
  sequence: z.number().int(),
  eventId: z.string(),
  seenAt: z.string(),
  deliveryCount: z.number().int(),
  serviceSequenceNumber: z.string(),
});
export type DuplicateEntry = z.infer<typeof duplicateEntrySchema>;

export const orderLineSchema = itemAddedDataSchema;
export type OrderLine = z.infer<typeof orderLineSchema>;

export const orderRecordSchema = z.strictObject({
  basketId: z.string(),
  status: z.enum(orderStatuses),
  /** Why the order is Blocked (the rule that was violated). */
  blockedReason: z.string().optional(),
  lines: z.array(orderLineSchema),
  currency: currencySchema.optional(),
  /** Basket total in minor units (cents). */
  totalMinor: z.number().int().min(0),
  inventory: inventoryUpdatedDataSchema.optional(),
  lastAppliedSequence: z.number().int().min(0),
  applied: z.array(appliedEntrySchema),
  parked: z.array(parkedEntrySchema),
  rejected: z.array(rejectedEntrySchema),
  duplicates: z.array(duplicateEntrySchema),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type OrderRecord = z.infer<typeof orderRecordSchema>;

/** A message that cannot be attributed to an order (no usable basket id), kept for an operator. */
export const quarantinedMessageSchema = z.strictObject({
  messageId: z.string(),
  sessionId: z.string().optional(),
  reason: z.string(),
  /** The body as received, truncated to keep the entity within storage limits. */
  body: z.string(),
  deliveryCount: z.number().int(),
  serviceSequenceNumber: z.string(),
  quarantinedAt: z.string(),
});
export type QuarantinedMessage = z.infer<typeof quarantinedMessageSchema>;
