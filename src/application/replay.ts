import type { InvocationContext } from '@azure/functions';
import {
  ConcurrencyConflictError,
  type DeadLetter,
  type DeadLetterQueue,
  type LockedDeadLetter,
  type QuarantineStore,
} from '../adapters/ports';
import type { QuarantinedMessage } from '../domain/orderRecord';
import { classifyError, errorText, failureLine } from '../errors';
import {
  applyOrderEvent,
  convoyMessage,
  outcomeLine,
  type ApplyOrderEventDeps,
  type ApplyOutcome,
  type ConvoyMessage,
  type MessageFacts,
} from './applyOrderEvent';

/**
 * An operator's replay: dead-lettered or quarantined messages go through the same convoy core as
 * the session trigger (the record's ETag serialises the two; duplicates are recognised), and are
 * removed from where they waited only after their order recorded them. Nothing is re-sent to the
 * queue: duplicate detection would drop a message whose id is its eventId within its window, and a
 * new id would break eventId = messageId.
 */

/** A replay retries this many times when the session trigger wrote the record first. */
const conflictAttempts = 3;
/** The dead-letter scan bound of one replay (it holds locks on what it scanned until it is done). */
export const maxReplayScan = 2_000;

export type ReplayDeps = ApplyOrderEventDeps;

/** Where the basket's order stands after the replay (from the last record written). */
export interface OrderAfter {
  status: string;
  lastAppliedSequence: number;
  parkedSequences: number[];
}

/** How the order took the message (the convoy's outcomes), or that it went to quarantine. */
export type ReplayOutcomeKind = 'applied' | 'parked' | 'duplicate' | 'blocked' | 'rejected' | 'quarantined';

/** What happened to one dead letter: recorded on its order (or quarantined), or left where it was and why. */
export type LetterReplay = DeadLetter &
  (
    | { outcome: ReplayOutcomeKind; detail: string; removed: boolean }
    | { outcome: 'failed' | 'notAttempted' | 'notLocked'; detail: string; removed: false }
  );

export interface BasketReplay {
  basketId: string;
  /** Dead letters of the basket found (scanned ≤ `scanned` messages of the dead-letter queue). */
  found: number;
  scanned: number;
  complete: boolean;
  /** How many of them are still in the dead-letter queue after this replay. */
  remaining: number;
  letters: LetterReplay[];
  order?: OrderAfter;
}

/** Applies with a fresh read after an ETag conflict (the trigger wrote meanwhile); other errors propagate. */
async function applyWithRetry(deps: ReplayDeps, message: ConvoyMessage): Promise<ApplyOutcome> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await applyOrderEvent(deps, message);
    } catch (error) {
      if (!(error instanceof ConcurrencyConflictError) || attempt >= conflictAttempts) throw error;
    }
  }
}

function describeOutcome(outcome: ApplyOutcome): { outcome: ReplayOutcomeKind; detail: string } {
  if (outcome.kind === 'quarantined') return { outcome: 'quarantined', detail: outcome.reason };
  const convoy = outcome.result.outcome;
  switch (convoy.kind) {
    case 'applied':
      return { outcome: 'applied', detail: `Applied sequences ${convoy.applied.join(', ')}.` };
    case 'parked':
      return { outcome: 'parked', detail: `Parked until sequence ${convoy.waitingFor} arrives.` };
    case 'duplicate':
    case 'rejected':
      return { outcome: convoy.kind, detail: convoy.reason };
    case 'blocked':
      return { outcome: 'blocked', detail: convoy.reason };
    default: {
      const unreachable: never = convoy;
      return unreachable;
    }
  }
}

function orderAfter(outcome: ApplyOutcome): OrderAfter | undefined {
  if (outcome.kind !== 'convoy') return undefined;
  const { record } = outcome.result;
  return {
    status: record.status,
    lastAppliedSequence: record.lastAppliedSequence,
    parkedSequences: record.parked.map(({ event }) => event.sequence),
  };
}

/** Event order first (unknown sequences last), then the broker's order. */
function bySequence(a: DeadLetter, b: DeadLetter): number {
  const left = a.sequence ?? Number.MAX_SAFE_INTEGER;
  const right = b.sequence ?? Number.MAX_SAFE_INTEGER;
  if (left !== right) return left - right;
  const sa = BigInt(/^\d+$/.test(a.serviceSequenceNumber) ? a.serviceSequenceNumber : '0');
  const sb = BigInt(/^\d+$/.test(b.serviceSequenceNumber) ? b.serviceSequenceNumber : '0');
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function factsOf(letter: DeadLetter): MessageFacts {
  return {
    sessionId: letter.sessionId,
    messageId: letter.messageId === '' ? undefined : letter.messageId,
    deliveryCount: letter.deliveryCount,
    sequenceNumber: letter.serviceSequenceNumber,
    enqueuedTimeUtc: letter.enqueuedAt,
  };
}

/**
 * Locks the basket's dead letters, applies them in sequence order and completes each once applied
 * or recorded. At the first failure the rest stay in the dead-letter queue, untouched.
 */
export async function replayBasketDeadLetters(
  deps: ReplayDeps & { deadLetters: () => DeadLetterQueue },
  basketId: string,
  context: InvocationContext,
  logName: string,
): Promise<BasketReplay> {
  const batch = await deps.deadLetters().lockSession(basketId, maxReplayScan);
  const letters: LetterReplay[] = [];
  let order: OrderAfter | undefined;
  try {
    const lockedBySequence = new Map(batch.locked.map((locked) => [locked.letter.serviceSequenceNumber, locked]));
    const ordered = [...batch.messages].sort(bySequence);
    let failed = false;
    for (const letter of ordered) {
      const locked = lockedBySequence.get(letter.serviceSequenceNumber);
      if (locked === undefined) {
        letters.push({
          ...letter,
          outcome: 'notLocked',
          detail:
            'Seen when peeking but not locked: another receiver holds it, or it was removed meanwhile. Replay again.',
          removed: false,
        });
      } else if (failed) {
        letters.push({
          ...locked.letter,
          outcome: 'notAttempted',
          detail: 'An earlier message failed.',
          removed: false,
        });
      } else {
        const replayed = await replayOne(deps, locked, context, logName);
        letters.push(replayed.letter);
        order = replayed.order ?? order;
        failed = replayed.letter.outcome === 'failed';
      }
    }
  } finally {
    // Whatever was not completed reappears when its lock expires anyway; the answer stands.
    await batch.release().catch((error: unknown) => {
      context.warn(`${logName}: giving back the locked dead letters failed: ${errorText(error)}`);
    });
  }
  return {
    basketId,
    found: batch.messages.length,
    scanned: batch.scanned,
    complete: batch.complete,
    remaining: letters.filter((letter) => !letter.removed).length,
    letters,
    ...(order === undefined ? {} : { order }),
  };
}

async function replayOne(
  deps: ReplayDeps,
  locked: LockedDeadLetter,
  context: InvocationContext,
  logName: string,
): Promise<{ letter: LetterReplay; order?: OrderAfter }> {
  const fallbackId = `dead-letter-${locked.letter.serviceSequenceNumber}`;
  const message = convoyMessage(locked.body, factsOf(locked.letter), fallbackId, deps.now());
  let outcome: ApplyOutcome;
  try {
    outcome = await applyWithRetry(deps, message);
  } catch (error) {
    context.error(`${logName} ${failureLine(error, message.where)}`);
    const bug = classifyError(error) === 'bug' ? 'A bug in the app: replay again once its fix is deployed. ' : '';
    return {
      letter: {
        ...locked.letter,
        outcome: 'failed',
        detail: `${errorText(error)}. ${bug}It stays in the dead-letter queue.`,
        removed: false,
      },
    };
  }
  const { level, line } = outcomeLine(outcome, message.where);
  context[level](`${logName} ${line}`);
  const described = describeOutcome(outcome);
  const order = orderAfter(outcome);
  try {
    await locked.complete();
  } catch (error) {
    return {
      letter: {
        ...locked.letter,
        ...described,
        detail: `${described.detail} Recorded, but it could not be removed from the dead-letter queue (${errorText(error)}); a later replay recognises it as a duplicate.`,
        removed: false,
      },
      ...(order === undefined ? {} : { order }),
    };
  }
  return { letter: { ...locked.letter, ...described, removed: true }, ...(order === undefined ? {} : { order }) };
}

/** An operator's correction for a quarantined message: the session (basket) it belongs to, or a fixed body. */
export interface QuarantineCorrection {
  sessionId?: string;
  body?: unknown;
}

export type QuarantineReplay =
  | { kind: 'notFound' }
  | { kind: 'bodyCut'; message: QuarantinedMessage }
  /** The body's eventId names another event than the stored message id: refused, nothing applied. */
  | { kind: 'eventIdMismatch'; messageId: string; eventId: string }
  | {
      kind: 'replayed';
      messageId: string;
      outcome: ReplayOutcomeKind;
      detail: string;
      /** True when the quarantine row was removed (the order recorded the message). */
      removed: boolean;
      order?: OrderAfter;
    };

/** The store's clip marker: the body was cut, so replaying it as stored would be a different message. */
const cutMarker = /…\[\d+ more\]$/;

/**
 * Replays one quarantined message (its stored body and session id, or the operator's correction)
 * through the convoy core. Recorded on its order → the row is removed; quarantined again → the row
 * stays as it was and the answer gives today's reason. Transient errors propagate.
 */
export async function replayQuarantined(
  deps: ReplayDeps & { quarantineStore: () => QuarantineStore },
  messageId: string,
  correction: QuarantineCorrection,
  context: InvocationContext,
  logName: string,
): Promise<QuarantineReplay> {
  const stored = await deps.quarantineStore().get(messageId);
  if (stored === undefined) return { kind: 'notFound' };
  if (correction.body === undefined && cutMarker.test(stored.body)) return { kind: 'bodyCut', message: stored };
  const facts: MessageFacts = {
    sessionId: correction.sessionId ?? stored.sessionId,
    messageId: stored.messageId,
    deliveryCount: stored.deliveryCount,
    sequenceNumber: stored.serviceSequenceNumber,
  };
  const body = correction.body ?? stored.body;
  const message = convoyMessage(body, facts, stored.messageId, deps.now());
  // Applied, it would block the order (messageId ≠ eventId is a producer bug); the replay keeps the
  // message id, so a body naming another event is the operator's mistake to fix, not the order's.
  const eventId = message.inbound.kind === 'invalidEvent' ? message.inbound.invalid.eventId : undefined;
  if (eventId !== undefined && eventId !== stored.messageId) {
    return { kind: 'eventIdMismatch', messageId: stored.messageId, eventId };
  }
  const outcome = await applyWithRetry(deps, message);
  const { level, line } = outcomeLine(outcome, message.where);
  context[level](`${logName} ${line}`);
  const removed = outcome.kind === 'convoy';
  if (removed) await deps.quarantineStore().remove(stored.messageId);
  const order = orderAfter(outcome);
  return {
    kind: 'replayed',
    messageId: stored.messageId,
    ...describeOutcome(outcome),
    removed,
    ...(order === undefined ? {} : { order }),
  };
}
