import { z } from 'zod';
import { basketIdSchema, eventEnvelopeSchema, type EventEnvelope } from './events';
import type { InvalidEvent } from './convoy';

/**
 * What an incoming message is, decided from its decoded body and its session id alone:
 * - a valid event of the session's basket;
 * - an invalid event at a known sequence of the session's basket (it goes to that order's log),
 *   which includes a valid body whose message id is not its eventId: duplicate detection keys on
 *   the message id, so that is a producer bug to surface, not to absorb silently;
 * - unattributable (no usable basket id and sequence, or a body that names another basket than
 *   its session): nothing can own it, so it goes to quarantine.
 */
export type InboundMessage =
  | { kind: 'event'; event: EventEnvelope }
  | { kind: 'invalidEvent'; invalid: InvalidEvent; reason: string }
  | { kind: 'unattributable'; reason: string };

/** Just enough of an envelope to know whose and which event it was meant to be. */
const attributionSchema = z.object({
  basketId: basketIdSchema,
  sequence: z.number().int().min(1).max(1_000_000),
  type: z.string().optional().catch(undefined),
  eventId: z.string().optional().catch(undefined),
});

const maxIssuesInReason = 5;

export function describeIssues(error: z.ZodError): string {
  const issues = error.issues.slice(0, maxIssuesInReason).map((issue) => {
    const path = issue.path.map(String).join('.');
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
  const more = error.issues.length - maxIssuesInReason;
  return more > 0 ? `${issues.join('; ')}; and ${String(more)} more` : issues.join('; ');
}

/**
 * A session id the Functions library JSON-parsed ("1.50" arrives as 1.5, "true" as true, "null" as
 * null): the original text is gone, so only the parsed value can be compared.
 */
export type ParsedSessionId = number | boolean | null;

/**
 * Whether a body's basketId names the session it came in. Text is compared as text; a session id the
 * library parsed is compared with the basketId run through the same parse (Object.is, so -0 ≠ 0).
 * That is the strictest check the parsed value allows: the ids the parse merges ("1.5" and "1.50",
 * "1e309" and "2e309" → Infinity, "1e-400" and "0" → 0, integers past 2^53 that round alike) cannot
 * be told apart, the others always can. The store keys each order by the body's own basketId, so two
 * such baskets never share a record. (A session id in JSON quotes, '"b-1"', arrives as b-1: our
 * producer cannot make one, basket ids have no quotes.)
 */
export function basketMatchesSession(basketId: string, sessionId: string, parsed?: ParsedSessionId): boolean {
  if (parsed === undefined) return basketId === sessionId;
  let value: unknown;
  try {
    value = JSON.parse(basketId);
  } catch {
    return false;
  }
  return Object.is(value, parsed);
}

export function classifyMessage(
  body: unknown,
  sessionId: string | undefined,
  messageId?: string,
  parsedSessionId?: ParsedSessionId,
): InboundMessage {
  if (sessionId === undefined || sessionId === '') {
    return {
      kind: 'unattributable',
      reason:
        'The message has no session id; the queue must be session-enabled and the producer must set sessionId = basketId.',
    };
  }
  const mismatch = (basketId: string): InboundMessage => ({
    kind: 'unattributable',
    reason: `The body's basketId "${basketId}" differs from the session id "${sessionId}".`,
  });

  const parsed = eventEnvelopeSchema.safeParse(body);
  if (parsed.success) {
    const event = parsed.data;
    if (!basketMatchesSession(event.basketId, sessionId, parsedSessionId)) return mismatch(event.basketId);
    if (messageId !== undefined && messageId !== event.eventId) {
      const { basketId, sequence, type, eventId } = event;
      return {
        kind: 'invalidEvent',
        invalid: { basketId, sequence, type, eventId },
        reason: `The message id "${messageId}" differs from the eventId "${eventId}"; the producer must set messageId = eventId so Service Bus duplicate detection drops its retries.`,
      };
    }
    return { kind: 'event', event };
  }

  const reason = `The event does not match its schema: ${describeIssues(parsed.error)}`;
  const attribution = attributionSchema.safeParse(body);
  if (!attribution.success) {
    return { kind: 'unattributable', reason: `${reason} (no usable basketId and sequence)` };
  }
  const { basketId, sequence, type, eventId } = attribution.data;
  if (!basketMatchesSession(basketId, sessionId, parsedSessionId)) return mismatch(basketId);
  return { kind: 'invalidEvent', invalid: { basketId, sequence, type, eventId }, reason };
}
