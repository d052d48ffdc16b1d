import { trace } from '@opentelemetry/api';
import type { ApplyOutcome, ConvoyMessage } from './applyOrderEvent';

/** What the active span (the handler's) records about the message, and then about its outcome. */
export function annotateSpan(message: ConvoyMessage, outcome?: ApplyOutcome): void {
  const span = trace.getActiveSpan();
  if (span === undefined) return;
  if (outcome !== undefined) {
    span.setAttribute('convoy.outcome', outcome.kind === 'quarantined' ? 'quarantined' : outcome.result.outcome.kind);
    return;
  }
  const { inbound, delivery, facts } = message;
  span.setAttributes({
    'messaging.message.id': delivery.messageId,
    'messaging.servicebus.message.delivery_count': delivery.deliveryCount,
    'messaging.servicebus.message.enqueued_time': facts.enqueuedTimeUtc ?? '',
    'convoy.service_sequence_number': delivery.serviceSequenceNumber,
  });
  if (inbound.kind === 'event') {
    span.setAttributes({
      'convoy.basket_id': inbound.event.basketId,
      'convoy.event.sequence': inbound.event.sequence,
      'convoy.event.type': inbound.event.type,
    });
  }
}
