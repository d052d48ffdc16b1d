import { booleanProp, stringProp, type TriggerBinding } from '../triggers';
import type { TriggerTarget } from './dispatch';

export interface ServiceBusTrigger {
  target: TriggerTarget;
  sessions: boolean;
  /** The binding's `connection` setting name (unset → AzureWebJobsServiceBus). */
  connection: string | undefined;
}

/** Reads a (resolved) serviceBusTrigger binding; refuses what the local host cannot run. */
export function serviceBusTrigger(
  functionName: string,
  trigger: TriggerBinding,
  defaultAutoComplete: boolean,
): ServiceBusTrigger {
  const binding = trigger.binding;
  if (stringProp(binding, 'cardinality')?.toLowerCase() === 'many') {
    throw new Error(`${functionName}: batch dispatch (cardinality 'many') is not supported by the local host.`);
  }
  const queueName = stringProp(binding, 'queueName');
  const topicName = stringProp(binding, 'topicName');
  const subscriptionName = stringProp(binding, 'subscriptionName');
  const target: TriggerTarget = {
    functionName,
    entity: queueName ?? `${topicName ?? '?'}/Subscriptions/${subscriptionName ?? '?'}`,
    autoComplete: booleanProp(binding, 'autoCompleteMessages') ?? defaultAutoComplete,
    dataType: binding.dataType,
  };
  if (queueName !== undefined) target.queueName = queueName;
  else if (topicName !== undefined && subscriptionName !== undefined) {
    target.topicName = topicName;
    target.subscriptionName = subscriptionName;
  } else {
    throw new Error(`${functionName}: a Service Bus trigger needs queueName, or topicName and subscriptionName.`);
  }
  return {
    target,
    sessions: booleanProp(binding, 'isSessionsEnabled') === true,
    connection: stringProp(binding, 'connection'),
  };
}
