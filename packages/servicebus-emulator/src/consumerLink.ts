import { randomBytes } from 'node:crypto';
import type * as rhea from 'rhea';
import { conditions, deliveryTagForToken, isRecord, optionalString, type AmqpErrorShape } from './codec';
import type { MessageEntity, SettleOutcome } from './entities';
import {
  alwaysAnswerDrain,
  answerDisposition,
  creditLimit,
  isDraining,
  outcome,
  outgoingCapacity,
  remoteOutcome,
  remoteOutcomeName,
} from './rheaInternals';
import type { Consumer, SessionState, StoredMessage } from './entityState';

export type DispositionEvent = 'accepted' | 'released' | 'modified' | 'rejected';

/**
 * A client's receiver link as the broker sees it: it takes messages within the credit the client
 * granted, keeps the lock token of each unsettled delivery, and settles what the client decides.
 */
export class LinkConsumer implements Consumer {
  private limit = 0;
  private sent = 0;
  private readonly tokens = new Map<rhea.Delivery, string>();
  /** Settled by close() from a disposition rhea had read but not reported yet: nothing to answer. */
  private readonly settledOnClose = new WeakSet<rhea.Delivery>();
  session: SessionState | undefined;
  private active = false;
  private closed = false;

  constructor(
    readonly sender: rhea.Sender,
    readonly entity: MessageEntity,
    readonly mode: 'peekLock' | 'receiveAndDelete',
    readonly label: string,
  ) {
    alwaysAnswerDrain(sender);
  }

  /** Starts taking messages (after the attach is answered). */
  activate(): void {
    this.active = true;
    if (this.session === undefined) this.entity.addConsumer(this);
    this.onFlow();
  }

  credit(): number {
    if (!this.active || this.closed) return 0;
    return Math.max(0, Math.min(this.limit - this.sent, outgoingCapacity(this.sender)));
  }

  deliver(message: StoredMessage, token: string | undefined): void {
    const tag = token === undefined ? randomBytes(16) : deliveryTagForToken(token);
    const delivery = this.sender.send(this.entity.encode(message), tag, 0);
    this.sent++;
    if (token !== undefined) this.tokens.set(delivery, token);
  }

  /** Credit arrived (or the outgoing window freed up): deliver, then answer a drain request. */
  onFlow(): void {
    if (!this.active || this.closed) return;
    this.limit = creditLimit(this.sender);
    this.pump();
    if (isDraining(this.sender)) {
      // Everything deliverable went out above; the rest of the credit is consumed by the drain.
      this.sent = Math.max(this.sent, this.limit);
      this.sender.set_drained(true);
    }
  }

  pump(): void {
    if (this.session !== undefined) this.entity.pumpSession(this.session);
    else this.entity.pump();
  }

  /** The client settled a delivery: apply it and answer with a settled disposition. */
  onDisposition(event: DispositionEvent, delivery: rhea.Delivery): void {
    const token = this.tokens.get(delivery);
    this.tokens.delete(delivery);
    if (token === undefined && this.settledOnClose.has(delivery)) return;
    if (token === undefined) {
      // Delivered before the session lock was lost (or already settled): the lock is gone.
      if (!delivery.remote_settled) {
        answerDisposition(
          delivery,
          outcome.rejected({
            condition: this.session === undefined ? conditions.messageLockLost : conditions.sessionLockLost,
            description: `The lock on this delivery is no longer held on '${this.entity.path}'.`,
          }),
        );
      }
      return;
    }
    const fields = remoteOutcome(delivery);
    const settle = toSettleOutcome(event, fields);
    const result = this.entity.settle(token, settle);
    if (!result.ok) {
      answerDisposition(delivery, outcome.rejected(result.error));
      return;
    }
    answerDisposition(delivery, echo(event, fields));
  }

  /** The session lock ran out: the service detaches the link with session-lock-lost. */
  sessionLost(): void {
    const id = this.session?.id ?? '';
    this.detach({
      condition: conditions.sessionLockLost,
      description: `The session lock has expired on the session with id ${id} of '${this.entity.path}'.`,
    });
  }

  detach(error: AmqpErrorShape): void {
    this.close();
    this.sender.close(error);
  }

  /** Link closed by either side or connection gone: stop receiving and release the session. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.settleDisposedUnreported();
    this.tokens.clear();
    this.entity.removeConsumer(this);
    if (this.session !== undefined) this.entity.releaseSession(this.session, this);
  }

  /**
   * rhea reports a detach or an end as soon as it reads one, but a disposition read just before it
   * only on its next turn. A client that settles and then closes (the host releasing a message that
   * met its close) has both in one read: apply the settlement before the session is taken back, which
   * would count the message as delivered and never settled.
   */
  private settleDisposedUnreported(): void {
    for (const [delivery, token] of this.tokens) {
      const event = remoteOutcomeName(delivery);
      if (!isDispositionEvent(event)) continue;
      this.settledOnClose.add(delivery);
      this.entity.settle(token, toSettleOutcome(event, remoteOutcome(delivery)));
    }
  }
}

const dispositionEvents = new Set<string>(['accepted', 'released', 'modified', 'rejected']);

function isDispositionEvent(name: string | undefined): name is DispositionEvent {
  return name !== undefined && dispositionEvents.has(name);
}

function toSettleOutcome(event: DispositionEvent, fields: Record<string, unknown>): SettleOutcome {
  switch (event) {
    case 'accepted':
      return { kind: 'complete' };
    case 'released':
      // The .NET receiver releases deliveries it stopped waiting for: not a delivery attempt.
      return { kind: 'release' };
    case 'modified': {
      const properties = isRecord(fields.message_annotations) ? fields.message_annotations : undefined;
      const base = properties === undefined ? {} : { properties };
      return fields.undeliverable_here === true ? { kind: 'defer', ...base } : { kind: 'abandon', ...base };
    }
    case 'rejected': {
      const error = isRecord(fields.error) ? fields.error : {};
      const info = isRecord(error.info) ? error.info : {};
      const properties: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(info)) {
        if (key !== 'DeadLetterReason' && key !== 'DeadLetterErrorDescription') properties[key] = value;
      }
      return {
        kind: 'deadLetter',
        reason: optionalString(info.DeadLetterReason) ?? optionalString(error.condition),
        description: optionalString(info.DeadLetterErrorDescription) ?? optionalString(error.description),
        properties,
      };
    }
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

function echo(event: DispositionEvent, fields: Record<string, unknown>): unknown {
  switch (event) {
    case 'accepted':
      return outcome.accepted();
    case 'released':
      return outcome.released();
    case 'modified':
      return outcome.modified({
        delivery_failed: fields.delivery_failed === true,
        undeliverable_here: fields.undeliverable_here === true,
      });
    case 'rejected':
      // Settled without an error: the SDK reads an error here as a failed dead-letter.
      return outcome.rejected();
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
