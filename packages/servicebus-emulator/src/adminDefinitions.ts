import { HttpError } from './adminError';
import { child, parseXml, xmlDuration, type XmlElement } from './adminXml';
import { parseEmulatorConfig, type QueueDefinition, type SubscriptionDefinition, type TopicDefinition } from './config';

/**
 * Entity definitions from the management API's request bodies: the QueueDescription, TopicDescription
 * or SubscriptionDescription in an ATOM entry, turned into Config.json's shape and validated by the
 * same parser as Config.json, so an entity created at runtime obeys the same rules.
 */

const entityName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$/;
const subscriptionName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/;

/** What a definition is checked against: the namespace's name, this host's URI, its queues. */
export interface DefinitionContext {
  namespaceName: string;
  /** `http://host:port`, the prefix of the forward-target URIs the client sends. */
  base: string;
  isQueue(name: string): boolean;
}

export function checkEntityName(name: string): void {
  if (!entityName.test(name))
    throw new HttpError(
      400,
      `Entity name '${name}' is not valid: 1-260 letters, digits, '.', '-' or '_', starting with a letter or digit.`,
    );
}

export function checkSubscriptionName(name: string): void {
  if (!subscriptionName.test(name))
    throw new HttpError(
      400,
      `Subscription name '${name}' is not valid: 1-50 letters, digits, '.', '-' or '_', starting with a letter or digit.`,
    );
}

/** The QueueDescription / TopicDescription / SubscriptionDescription inside an ATOM entry. */
export function description(body: string): XmlElement {
  let document: XmlElement;
  try {
    document = parseXml(body);
  } catch (error) {
    throw new HttpError(400, `The request body is not XML: ${error instanceof Error ? error.message : String(error)}`);
  }
  const inner = child(document, 'content')?.children[0];
  if (document.name !== 'entry' || inner === undefined)
    throw new HttpError(400, 'The request body must be an ATOM entry with the description in <content>.');
  return inner;
}

export function queueFrom(name: string, content: XmlElement, context: DefinitionContext): QueueDefinition {
  const fields = flat(content);
  const properties = {
    ...receivableProperties(fields, context),
    RequiresDuplicateDetection: bool(fields, 'RequiresDuplicateDetection'),
    DuplicateDetectionHistoryTimeWindow: fields.get('DuplicateDetectionHistoryTimeWindow'),
  };
  const queue = fromConfig({ Queues: [{ Name: name, Properties: properties }] }, context).queues[0];
  if (queue === undefined) throw new HttpError(500, 'The queue definition was lost.');
  return queue;
}

export function topicFrom(name: string, content: XmlElement, context: DefinitionContext): TopicDefinition {
  const fields = flat(content);
  const properties = {
    DefaultMessageTimeToLive: fields.get('DefaultMessageTimeToLive'),
    RequiresDuplicateDetection: bool(fields, 'RequiresDuplicateDetection'),
    DuplicateDetectionHistoryTimeWindow: fields.get('DuplicateDetectionHistoryTimeWindow'),
  };
  const topic = fromConfig({ Topics: [{ Name: name, Properties: properties }] }, context).topics[0];
  if (topic === undefined) throw new HttpError(500, 'The topic definition was lost.');
  return topic;
}

export function subscriptionFrom(
  topic: TopicDefinition,
  name: string,
  content: XmlElement,
  context: DefinitionContext,
): SubscriptionDefinition {
  const rule = child(content, 'DefaultRuleDescription');
  const subscription = {
    Name: name,
    Properties: receivableProperties(flat(content), context),
    ...(rule === undefined ? {} : { Rules: [ruleFrom(rule)] }),
  };
  const parsed = fromConfig(
    {
      Topics: [
        {
          Name: topic.name,
          Properties: { DefaultMessageTimeToLive: xmlDuration(topic.defaultTtlMs) },
          Subscriptions: [subscription],
        },
      ],
    },
    context,
  ).topics[0]?.subscriptions[0];
  if (parsed === undefined) throw new HttpError(500, 'The subscription definition was lost.');
  return parsed;
}

function fromConfig(entities: { Queues?: unknown[]; Topics?: unknown[] }, context: DefinitionContext) {
  try {
    return parseEmulatorConfig({ UserConfig: { Namespaces: [{ Name: context.namespaceName, ...entities }] } });
  } catch (error) {
    throw new HttpError(400, error instanceof Error ? error.message : String(error));
  }
}

function receivableProperties(fields: Map<string, string>, context: DefinitionContext) {
  return {
    LockDuration: fields.get('LockDuration'),
    RequiresSession: bool(fields, 'RequiresSession'),
    DefaultMessageTimeToLive: fields.get('DefaultMessageTimeToLive'),
    DeadLetteringOnMessageExpiration: bool(fields, 'DeadLetteringOnMessageExpiration'),
    MaxDeliveryCount: int(fields, 'MaxDeliveryCount'),
    ForwardTo: forwardTarget(fields.get('ForwardTo'), context),
    ForwardDeadLetteredMessagesTo: forwardTarget(fields.get('ForwardDeadLetteredMessagesTo'), context),
  };
}

/** The client sends forward targets as absolute URIs on this host; the emulator keeps queue names. */
function forwardTarget(value: string | undefined, context: DefinitionContext): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const { base } = context;
  let name = value.trim();
  if (name.toLowerCase().startsWith(base.toLowerCase())) name = name.slice(base.length);
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(name)) name = new URL(name).pathname;
  name = decodeURIComponent(name.replace(/^\/+|\/+$/g, ''));
  if (!context.isQueue(name)) throw new HttpError(400, `Forwarding target '${name}' is not a queue of this namespace.`);
  return name;
}

/** Leaf children by local name. */
function flat(element: XmlElement): Map<string, string> {
  const fields = new Map<string, string>();
  for (const c of element.children) if (c.children.length === 0) fields.set(c.name, c.text.trim());
  return fields;
}

function bool(fields: Map<string, string>, name: string): boolean | undefined {
  const value = fields.get(name);
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new HttpError(400, `${name} must be true or false, got '${value}'.`);
}

function int(fields: Map<string, string>, name: string): number | undefined {
  const value = fields.get(name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new HttpError(400, `${name} must be a whole number, got '${value}'.`);
  return n;
}

const correlationFields = [
  'ContentType',
  'CorrelationId',
  'Label',
  'MessageId',
  'ReplyTo',
  'ReplyToSessionId',
  'SessionId',
  'To',
] as const;

/** A subscription's DefaultRuleDescription in Config.json's rule shape (validated there). */
function ruleFrom(rule: XmlElement): unknown {
  const name = child(rule, 'Name')?.text.trim() || '$Default';
  const filter = child(rule, 'Filter');
  const type = filter?.attributes.type ?? 'TrueFilter';
  if (child(rule, 'Action')?.attributes.type === 'SqlRuleAction')
    throw new HttpError(400, 'Rule actions are not supported by the emulator.');
  const sql = (expression: string) => ({
    Name: name,
    Properties: { FilterType: 'Sql', SqlFilter: { SqlExpression: expression } },
  });
  if (type === 'TrueFilter') return sql('1=1');
  if (type === 'FalseFilter') return sql('1=0');
  if (type === 'SqlFilter') return sql(child(filter, 'SqlExpression')?.text ?? '');
  if (type === 'CorrelationFilter' && filter !== undefined)
    return { Name: name, Properties: { FilterType: 'Correlation', CorrelationFilter: correlationFrom(filter) } };
  throw new HttpError(400, `Rule filter type '${type}' is not supported by the emulator.`);
}

function correlationFrom(filter: XmlElement): Record<string, unknown> {
  const correlation: Record<string, unknown> = {};
  for (const field of correlationFields) {
    const value = child(filter, field);
    if (value !== undefined && value.attributes.nil !== 'true') correlation[field] = value.text;
  }
  const properties: Record<string, string | number | boolean> = {};
  for (const pair of child(filter, 'Properties')?.children ?? []) {
    const key = child(pair, 'Key')?.text ?? '';
    const value = child(pair, 'Value');
    const valueType = (value?.attributes.type ?? '').replace(/^.*:/, '');
    const text = value?.text ?? '';
    properties[key] =
      valueType === 'boolean'
        ? text === 'true'
        : ['int', 'long', 'short', 'double', 'float', 'decimal'].includes(valueType)
          ? Number(text)
          : text;
  }
  if (Object.keys(properties).length > 0) correlation.Properties = properties;
  return correlation;
}
