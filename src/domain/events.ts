import { z } from 'zod';

/**
 * The event contract of one basket. Every event travels in an envelope whose `basketId` is the
 * Service Bus session id and whose `sequence` (1-based, assigned by the producer) is the order the
 * convoy restores. `eventId` is the message id, derived from basket + sequence so that a producer
 * retry is caught by the queue's duplicate detection and by the order's idempotency check.
 */

export const basketIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'basketId must be 1-100 characters: letters, digits, ".", "_" or "-"');

export const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code such as "EUR"');

/**
 * Amounts with at most two decimals, so totals are exact in minor units. Float noise from a
 * client's arithmetic (0.1 + 0.2) is accepted and normalized to the cent, so what is stored and
 * shown is the amount itself, never 0.30000000000000004 or 1e-9.
 */
export const moneySchema = z
  .number()
  .min(0)
  .max(1_000_000)
  .refine((value) => Math.abs(Math.round(value * 100) - value * 100) < 1e-6, {
    error: 'amount must have at most two decimals',
  })
  .transform((value) => Math.round(value * 100) / 100);

export const skuSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'sku must be 1-64 letters, digits, ".", "_" or "-"');

export const itemAddedDataSchema = z.strictObject({
  sku: skuSchema,
  quantity: z.number().int().min(1).max(1000),
  unitPrice: moneySchema,
});

export const basketCheckedOutDataSchema = z.strictObject({
  currency: currencySchema,
});

export const paymentMadeDataSchema = z.strictObject({
  amount: moneySchema,
  currency: currencySchema,
});

export const shortageSchema = z.strictObject({
  sku: skuSchema,
  requested: z.number().int().min(1),
  available: z.number().int().min(0),
});

export const inventoryUpdatedDataSchema = z.discriminatedUnion('outcome', [
  z.strictObject({ outcome: z.literal('reserved') }),
  z.strictObject({ outcome: z.literal('insufficient'), shortages: z.array(shortageSchema).min(1) }),
]);

const envelopeFields = {
  basketId: basketIdSchema,
  sequence: z.number().int().min(1).max(1_000_000),
  eventId: z.string().min(1).max(128),
  // The format allows any number of fraction digits; 40 characters is nanoseconds plus an offset.
  occurredAt: z.iso.datetime({ offset: true }).max(40),
};

export const eventEnvelopeSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ ...envelopeFields, type: z.literal('ItemAdded'), data: itemAddedDataSchema }),
    z.strictObject({ ...envelopeFields, type: z.literal('BasketCheckedOut'), data: basketCheckedOutDataSchema }),
    z.strictObject({ ...envelopeFields, type: z.literal('PaymentMade'), data: paymentMadeDataSchema }),
    z.strictObject({ ...envelopeFields, type: z.literal('InventoryUpdated'), data: inventoryUpdatedDataSchema }),
  ])
  .refine((event) => event.eventId === eventIdFor(event.basketId, event.sequence), {
    error: 'eventId must be "<basketId>:<sequence>"',
    path: ['eventId'],
  });

export type EventEnvelope = z.infer<typeof eventEnvelopeSchema>;
export type OrderEventType = EventEnvelope['type'];
export type ItemAddedData = z.infer<typeof itemAddedDataSchema>;
export type InventoryUpdatedData = z.infer<typeof inventoryUpdatedDataSchema>;
export type Shortage = z.infer<typeof shortageSchema>;

export const orderEventTypes = [
  'ItemAdded',
  'BasketCheckedOut',
  'PaymentMade',
  'InventoryUpdated',
] as const satisfies readonly OrderEventType[];

/** The message id of an event: deterministic, so a retried send is a duplicate, not a new event. */
export function eventIdFor(basketId: string, sequence: number): string {
  return `${basketId}:${String(sequence)}`;
}

/** Amount in minor units (cents), exact for amounts that passed `moneySchema`. */
export function toMinorUnits(amount: number): number {
  return Math.round(amount * 100);
}
