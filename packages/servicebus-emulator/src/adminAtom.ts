import { escapeXml, xmlDuration } from './adminXml';
import {
  quotas,
  type QueueDefinition,
  type ReceivableSettings,
  type SubscriptionDefinition,
  type TopicDefinition,
} from './config';

/**
 * The management API's answers as ATOM/XML: entries and feeds wrapping the QueueDescription,
 * TopicDescription, SubscriptionDescription and NamespaceInfo the ServiceBusAdministrationClients read,
 * with the fields in the order the service writes them.
 */

export const sbNs = 'http://schemas.microsoft.com/netservices/2010/10/servicebus/connect';
export const xsi = 'http://www.w3.org/2001/XMLSchema-instance';
const atom = 'http://www.w3.org/2005/Atom';
/** TimeSpan.MaxValue as the service writes it: the emulator never deletes idle entities. */
const neverAutoDelete = 'P10675199DT2H48M5.4775807S';

export interface Timestamps {
  createdAt: string;
  updatedAt: string;
}

export interface MessageCounts {
  total: number;
  /** Visible and locked messages. */
  active: number;
  deadLetter: number;
  scheduled: number;
}

/** What a description shows besides the definition: live counts and times. */
export interface EntityFacts {
  counts(path: string): MessageCounts;
  times(path: string): Timestamps;
  /** The current time, ISO 8601. */
  now(): string;
}

export function entry(base: string, path: string, title: string, content: string): string {
  // `$` stays as is, as the service writes `Rules/$Default` (the JS client reads the rule name from the id).
  const id = `${base}/${path
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%24/g, '$'))
    .join('/')}`;
  return (
    `<entry xmlns="${atom}"><id>${escapeXml(id)}</id><title type="text">${escapeXml(title)}</title>` +
    `<link rel="self" href="${escapeXml(id)}"/><content type="application/xml">${content}</content></entry>`
  );
}

export function feed(base: string, title: string, entries: string[]): string {
  return `<feed xmlns="${atom}"><title type="text">${title}</title><id>${escapeXml(base)}/$Resources/${title}</id>${entries.map((e) => e.replace(` xmlns="${atom}"`, '')).join('')}</feed>`;
}

export function errorXml(status: number, detail: string): string {
  return `<Error><Code>${String(status)}</Code><Detail>${escapeXml(detail)}</Detail></Error>`;
}

export function namespaceEntry(base: string, name: string, startedAt: string): string {
  return entry(
    base,
    '$namespaceinfo',
    name,
    `<NamespaceInfo xmlns="${sbNs}" xmlns:i="${xsi}"><CreatedTime>${startedAt}</CreatedTime>` +
      `<MessagingSKU>Standard</MessagingSKU><MessagingUnits>0</MessagingUnits><ModifiedTime>${startedAt}</ModifiedTime>` +
      `<Name>${escapeXml(name)}</Name><NamespaceType>Messaging</NamespaceType></NamespaceInfo>`,
  );
}

export function queueEntry(q: QueueDefinition, base: string, facts: EntityFacts): string {
  const c = facts.counts(q.name);
  return entry(
    base,
    q.name,
    q.name,
    `<QueueDescription xmlns="${sbNs}" xmlns:i="${xsi}">` +
      `<LockDuration>${xmlDuration(q.settings.lockDurationMs)}</LockDuration>` +
      `<MaxSizeInMegabytes>1024</MaxSizeInMegabytes>` +
      `<RequiresDuplicateDetection>${String(q.duplicateDetection.enabled)}</RequiresDuplicateDetection>` +
      `<RequiresSession>${String(q.settings.requiresSession)}</RequiresSession>` +
      `<DefaultMessageTimeToLive>${xmlDuration(q.settings.defaultTtlMs)}</DefaultMessageTimeToLive>` +
      `<DeadLetteringOnMessageExpiration>${String(q.settings.deadLetterOnExpiration)}</DeadLetteringOnMessageExpiration>` +
      `<DuplicateDetectionHistoryTimeWindow>${xmlDuration(q.duplicateDetection.windowMs)}</DuplicateDetectionHistoryTimeWindow>` +
      `<MaxDeliveryCount>${String(q.settings.maxDeliveryCount)}</MaxDeliveryCount>` +
      `<EnableBatchedOperations>true</EnableBatchedOperations>` +
      `<SizeInBytes>0</SizeInBytes><MessageCount>${String(c.total)}</MessageCount>` +
      `<Status>Active</Status>` +
      forwardXml('ForwardTo', q.settings.forwardTo, base) +
      timesXml(facts.times(q.name), facts.now()) +
      `<SupportOrdering>true</SupportOrdering>${countDetails(c)}` +
      `<EnablePartitioning>false</EnablePartitioning>` +
      forwardXml('ForwardDeadLetteredMessagesTo', q.settings.forwardDeadLetteredTo, base) +
      `<EnableExpress>false</EnableExpress>${maxMessageSize()}${availability()}</QueueDescription>`,
  );
}

export function topicEntry(t: TopicDefinition, base: string, facts: EntityFacts): string {
  const scheduled = t.subscriptions.reduce(
    (n, s) => n + facts.counts(`${t.name}/Subscriptions/${s.name}`).scheduled,
    0,
  );
  return entry(
    base,
    t.name,
    t.name,
    `<TopicDescription xmlns="${sbNs}" xmlns:i="${xsi}">` +
      `<DefaultMessageTimeToLive>${xmlDuration(t.defaultTtlMs)}</DefaultMessageTimeToLive>` +
      `<MaxSizeInMegabytes>1024</MaxSizeInMegabytes>` +
      `<RequiresDuplicateDetection>${String(t.duplicateDetection.enabled)}</RequiresDuplicateDetection>` +
      `<DuplicateDetectionHistoryTimeWindow>${xmlDuration(t.duplicateDetection.windowMs)}</DuplicateDetectionHistoryTimeWindow>` +
      `<EnableBatchedOperations>true</EnableBatchedOperations><SizeInBytes>0</SizeInBytes>` +
      `<Status>Active</Status>${timesXml(facts.times(t.name), facts.now())}<SupportOrdering>true</SupportOrdering>` +
      countDetails({ active: 0, deadLetter: 0, scheduled }) +
      `<SubscriptionCount>${String(t.subscriptions.length)}</SubscriptionCount>` +
      `<EnablePartitioning>false</EnablePartitioning><EnableExpress>false</EnableExpress>` +
      `${maxMessageSize()}${availability()}</TopicDescription>`,
  );
}

export function subscriptionEntry(
  t: TopicDefinition,
  s: SubscriptionDefinition,
  base: string,
  facts: EntityFacts,
): string {
  const path = `${t.name}/Subscriptions/${s.name}`;
  const c = facts.counts(path);
  return entry(
    base,
    path,
    s.name,
    `<SubscriptionDescription xmlns="${sbNs}" xmlns:i="${xsi}">` +
      receivableFields(s.settings, base) +
      `<DeadLetteringOnFilterEvaluationExceptions>true</DeadLetteringOnFilterEvaluationExceptions>` +
      `<MessageCount>${String(c.total)}</MessageCount>${timesXml(facts.times(path), facts.now())}${countDetails(c)}` +
      `${availability()}</SubscriptionDescription>`,
  );
}

function receivableFields(s: ReceivableSettings, base: string): string {
  return (
    `<LockDuration>${xmlDuration(s.lockDurationMs)}</LockDuration>` +
    `<RequiresSession>${String(s.requiresSession)}</RequiresSession>` +
    `<DefaultMessageTimeToLive>${xmlDuration(s.defaultTtlMs)}</DefaultMessageTimeToLive>` +
    `<DeadLetteringOnMessageExpiration>${String(s.deadLetterOnExpiration)}</DeadLetteringOnMessageExpiration>` +
    `<MaxDeliveryCount>${String(s.maxDeliveryCount)}</MaxDeliveryCount>` +
    `<EnableBatchedOperations>true</EnableBatchedOperations><Status>Active</Status>` +
    forwardXml('ForwardTo', s.forwardTo, base) +
    forwardXml('ForwardDeadLetteredMessagesTo', s.forwardDeadLetteredTo, base)
  );
}

/** A forward target as the service shows it: an absolute URI on this host. */
function forwardXml(field: string, target: string | undefined, base: string): string {
  return target === undefined ? '' : `<${field}>${escapeXml(`${base}/${target}`)}</${field}>`;
}

function countDetails(c: Pick<MessageCounts, 'active' | 'deadLetter' | 'scheduled'>): string {
  return (
    `<CountDetails xmlns:d3p1="http://schemas.microsoft.com/netservices/2011/06/servicebus">` +
    `<d3p1:ActiveMessageCount>${String(c.active)}</d3p1:ActiveMessageCount>` +
    `<d3p1:DeadLetterMessageCount>${String(c.deadLetter)}</d3p1:DeadLetterMessageCount>` +
    `<d3p1:ScheduledMessageCount>${String(c.scheduled)}</d3p1:ScheduledMessageCount>` +
    `<d3p1:TransferMessageCount>0</d3p1:TransferMessageCount>` +
    `<d3p1:TransferDeadLetterMessageCount>0</d3p1:TransferDeadLetterMessageCount></CountDetails>`
  );
}

/** Fields Service Bus sends on every entity: the JS SDK's subscription reader requires both. */
function availability(): string {
  return `<AutoDeleteOnIdle>${neverAutoDelete}</AutoDeleteOnIdle><EntityAvailabilityStatus>Available</EntityAvailabilityStatus>`;
}

function timesXml(t: Timestamps, now: string): string {
  return `<CreatedAt>${t.createdAt}</CreatedAt><UpdatedAt>${t.updatedAt}</UpdatedAt><AccessedAt>${now}</AccessedAt>`;
}

function maxMessageSize(): string {
  return `<MaxMessageSizeInKilobytes>${String(quotas.maxMessageSizeBytes / 1024)}</MaxMessageSizeInKilobytes>`;
}
