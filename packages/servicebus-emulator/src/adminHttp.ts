import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { ruleDescription, rulesOf, type NamedRule } from './adminRules';
import { child, escapeXml, parseXml, xmlDuration, type XmlElement } from './adminXml';
import { coalesceWritesPerTick } from './coalesceWrites';
import { verifySasToken, type SharedAccessKey } from './cbs';
import type { Clock } from './clock';
import {
  parseEmulatorConfig,
  quotas,
  type QueueDefinition,
  type ReceivableSettings,
  type SubscriptionDefinition,
  type TopicDefinition,
} from './config';
import type { Namespace } from './namespace';

/**
 * The management (ATOM/XML over HTTP) API that ServiceBusAdministrationClient speaks: create, get,
 * list and delete queues, topics and subscriptions while the emulator runs, with runtime counts.
 * With UseDevelopmentEmulator=true the .NET client sends plain HTTP to the connection string's
 * host and port, i.e. the AMQP port; listenShared() tells the two protocols apart by the first byte.
 */

export interface AdminOptions {
  namespace: Namespace;
  key: SharedAccessKey;
  clock: Clock;
  log: (line: string) => void;
}

const atom = 'http://www.w3.org/2005/Atom';
const sbNs = 'http://schemas.microsoft.com/netservices/2010/10/servicebus/connect';
const xsi = 'http://www.w3.org/2001/XMLSchema-instance';
const maxBodyBytes = 1024 * 1024;
/** TimeSpan.MaxValue as the service writes it: the emulator never deletes idle entities. */
const neverAutoDelete = 'P10675199DT2H48M5.4775807S';
const entityName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$/;
const subscriptionName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Timestamps {
  createdAt: string;
  updatedAt: string;
}

export function createAdminServer(options: AdminOptions): HttpServer {
  const { namespace, key, clock, log } = options;
  const startedAt = new Date(clock.now()).toISOString();
  const created = new Map<string, Timestamps>();
  const stamps = (path: string): Timestamps =>
    created.get(path.toLowerCase()) ?? { createdAt: startedAt, updatedAt: startedAt };

  const counts = (path: string): Record<string, number> => {
    const main = namespace.receivableFor(path)?.stats();
    const dead = namespace.receivableFor(`${path}/$DeadLetterQueue`)?.stats();
    const active = (main?.active ?? 0) + (main?.locked ?? 0);
    const deadLetter = (dead?.active ?? 0) + (dead?.locked ?? 0) + (dead?.deferred ?? 0);
    const scheduled = main?.scheduled ?? 0;
    return {
      total: active + (main?.deferred ?? 0) + scheduled + deadLetter,
      active,
      deadLetter,
      scheduled,
    };
  };

  const countDetails = (c: Record<string, number>): string =>
    `<CountDetails xmlns:d3p1="http://schemas.microsoft.com/netservices/2011/06/servicebus">` +
    `<d3p1:ActiveMessageCount>${String(c.active ?? 0)}</d3p1:ActiveMessageCount>` +
    `<d3p1:DeadLetterMessageCount>${String(c.deadLetter ?? 0)}</d3p1:DeadLetterMessageCount>` +
    `<d3p1:ScheduledMessageCount>${String(c.scheduled ?? 0)}</d3p1:ScheduledMessageCount>` +
    `<d3p1:TransferMessageCount>0</d3p1:TransferMessageCount>` +
    `<d3p1:TransferDeadLetterMessageCount>0</d3p1:TransferDeadLetterMessageCount></CountDetails>`;

  /** Fields Service Bus sends on every entity: the JS SDK's subscription reader requires both. */
  const availability = (): string =>
    `<AutoDeleteOnIdle>${neverAutoDelete}</AutoDeleteOnIdle><EntityAvailabilityStatus>Available</EntityAvailabilityStatus>`;

  const times = (t: Timestamps): string =>
    `<CreatedAt>${t.createdAt}</CreatedAt><UpdatedAt>${t.updatedAt}</UpdatedAt><AccessedAt>${new Date(clock.now()).toISOString()}</AccessedAt>`;

  const receivableFields = (s: ReceivableSettings, base: string): string =>
    `<LockDuration>${xmlDuration(s.lockDurationMs)}</LockDuration>` +
    `<RequiresSession>${String(s.requiresSession)}</RequiresSession>` +
    `<DefaultMessageTimeToLive>${xmlDuration(s.defaultTtlMs)}</DefaultMessageTimeToLive>` +
    `<DeadLetteringOnMessageExpiration>${String(s.deadLetterOnExpiration)}</DeadLetteringOnMessageExpiration>` +
    `<MaxDeliveryCount>${String(s.maxDeliveryCount)}</MaxDeliveryCount>` +
    `<EnableBatchedOperations>true</EnableBatchedOperations><Status>Active</Status>` +
    (s.forwardTo === undefined ? '' : `<ForwardTo>${escapeXml(`${base}/${s.forwardTo}`)}</ForwardTo>`) +
    (s.forwardDeadLetteredTo === undefined
      ? ''
      : `<ForwardDeadLetteredMessagesTo>${escapeXml(`${base}/${s.forwardDeadLetteredTo}`)}</ForwardDeadLetteredMessagesTo>`);

  const queueXml = (q: QueueDefinition, base: string): string => {
    const c = counts(q.name);
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
        `<SizeInBytes>0</SizeInBytes><MessageCount>${String(c.total ?? 0)}</MessageCount>` +
        `<Status>Active</Status>` +
        (q.settings.forwardTo === undefined
          ? ''
          : `<ForwardTo>${escapeXml(`${base}/${q.settings.forwardTo}`)}</ForwardTo>`) +
        times(stamps(q.name)) +
        `<SupportOrdering>true</SupportOrdering>${countDetails(c)}` +
        `<EnablePartitioning>false</EnablePartitioning>` +
        (q.settings.forwardDeadLetteredTo === undefined
          ? ''
          : `<ForwardDeadLetteredMessagesTo>${escapeXml(`${base}/${q.settings.forwardDeadLetteredTo}`)}</ForwardDeadLetteredMessagesTo>`) +
        `<EnableExpress>false</EnableExpress><MaxMessageSizeInKilobytes>${String(quotas.maxMessageSizeBytes / 1024)}</MaxMessageSizeInKilobytes>` +
        `${availability()}</QueueDescription>`,
    );
  };

  const topicXml = (t: TopicDefinition, base: string): string => {
    const scheduled = t.subscriptions.reduce(
      (n, s) => n + (counts(`${t.name}/Subscriptions/${s.name}`).scheduled ?? 0),
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
        `<Status>Active</Status>${times(stamps(t.name))}<SupportOrdering>true</SupportOrdering>` +
        countDetails({ active: 0, deadLetter: 0, scheduled }) +
        `<SubscriptionCount>${String(t.subscriptions.length)}</SubscriptionCount>` +
        `<EnablePartitioning>false</EnablePartitioning><EnableExpress>false</EnableExpress>` +
        `<MaxMessageSizeInKilobytes>${String(quotas.maxMessageSizeBytes / 1024)}</MaxMessageSizeInKilobytes>` +
        `${availability()}</TopicDescription>`,
    );
  };

  const subscriptionXml = (t: TopicDefinition, s: SubscriptionDefinition, base: string): string => {
    const path = `${t.name}/Subscriptions/${s.name}`;
    const c = counts(path);
    return entry(
      base,
      path,
      s.name,
      `<SubscriptionDescription xmlns="${sbNs}" xmlns:i="${xsi}">` +
        receivableFields(s.settings, base) +
        `<DeadLetteringOnFilterEvaluationExceptions>true</DeadLetteringOnFilterEvaluationExceptions>` +
        `<MessageCount>${String(c.total ?? 0)}</MessageCount>${times(stamps(path))}${countDetails(c)}` +
        `${availability()}</SubscriptionDescription>`,
    );
  };

  const find = (segments: string[]): { topic: TopicDefinition; sub: SubscriptionDefinition } | undefined => {
    const topic = namespace.topic(segments[0] ?? '');
    const sub = topic?.subscriptions.find((s) => s.name.toLowerCase() === (segments[2] ?? '').toLowerCase());
    return topic === undefined || sub === undefined ? undefined : { topic, sub };
  };

  const handle = (method: string, url: URL, body: string, ifMatch: boolean, base: string): [number, string] => {
    const segments = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
    const page = <T>(items: T[]): T[] => {
      const skip = Number(url.searchParams.get('$skip') ?? 0);
      const top = Number(url.searchParams.get('$top') ?? 100);
      return items.slice(skip, skip + top);
    };
    const [first = '', second, third, fourth] = segments;
    if (segments.length === 1 && first.toLowerCase() === '$namespaceinfo' && method === 'GET') {
      return [
        200,
        entry(
          base,
          '$namespaceinfo',
          namespace.definition.name,
          `<NamespaceInfo xmlns="${sbNs}" xmlns:i="${xsi}"><CreatedTime>${startedAt}</CreatedTime>` +
            `<MessagingSKU>Standard</MessagingSKU><MessagingUnits>0</MessagingUnits><ModifiedTime>${startedAt}</ModifiedTime>` +
            `<Name>${escapeXml(namespace.definition.name)}</Name><NamespaceType>Messaging</NamespaceType></NamespaceInfo>`,
        ),
      ];
    }
    if (segments.length === 2 && first === '$Resources' && method === 'GET') {
      if (second?.toLowerCase() === 'queues')
        return [
          200,
          feed(
            base,
            'Queues',
            page(namespace.definition.queues).map((q) => queueXml(q, base)),
          ),
        ];
      if (second?.toLowerCase() === 'topics')
        return [
          200,
          feed(
            base,
            'Topics',
            page(namespace.definition.topics).map((t) => topicXml(t, base)),
          ),
        ];
      throw new HttpError(404, `No resource list '${second ?? ''}' (queues and topics are supported).`);
    }
    if (segments.length === 1) {
      if (method === 'GET') {
        const queue = namespace.queue(first);
        if (queue !== undefined) return [200, queueXml(queue, base)];
        const topic = namespace.topic(first);
        if (topic !== undefined) return [200, topicXml(topic, base)];
        throw new HttpError(404, `The messaging entity '${first}' could not be found.`);
      }
      if (method === 'DELETE') {
        if (!namespace.removeEntity(first))
          throw new HttpError(404, `The messaging entity '${first}' could not be found.`);
        created.delete(first.toLowerCase());
        log(`admin: deleted ${first}`);
        return [200, ''];
      }
      if (method === 'PUT') {
        refuseUpdate(ifMatch);
        return [201, createQueueOrTopic(first, body, base)];
      }
    }
    if (second?.toLowerCase() === 'subscriptions') {
      const topic = namespace.topic(first);
      if (topic === undefined) throw new HttpError(404, `The messaging entity '${first}' could not be found.`);
      if (segments.length === 2 && method === 'GET')
        return [
          200,
          feed(
            base,
            'Subscriptions',
            page(topic.subscriptions).map((s) => subscriptionXml(topic, s, base)),
          ),
        ];
      if (segments.length === 3 && third !== undefined) {
        const path = `${topic.name}/Subscriptions/${third}`;
        if (method === 'GET') {
          const found = find(segments);
          if (found === undefined) throw new HttpError(404, `The messaging entity '${path}' could not be found.`);
          return [200, subscriptionXml(found.topic, found.sub, base)];
        }
        if (method === 'DELETE') {
          if (!namespace.removeSubscription(topic.name, third))
            throw new HttpError(404, `The messaging entity '${path}' could not be found.`);
          created.delete(path.toLowerCase());
          log(`admin: deleted ${path}`);
          return [200, ''];
        }
        if (method === 'PUT') {
          refuseUpdate(ifMatch);
          return [201, createSubscription(topic, third, body, base)];
        }
      }
      if (fourth?.toLowerCase() === 'rules') {
        if (method === 'GET' && segments.length <= 5) return readRules(segments, base, page);
        throw new HttpError(
          400,
          'Creating, updating or deleting rules is not supported by the emulator: give rules in Config.json.',
        );
      }
    }
    throw new HttpError(400, `${method} ${url.pathname} is not a management operation the emulator supports.`);
  };

  /** GET <topic>/Subscriptions/<sub>/Rules[/<rule>]: the rules routing applies, read-only. */
  const readRules = (segments: string[], base: string, page: <T>(items: T[]) => T[]): [number, string] => {
    const found = find(segments);
    const subPath = `${segments[0] ?? ''}/Subscriptions/${segments[2] ?? ''}`;
    if (found === undefined) throw new HttpError(404, `The messaging entity '${subPath}' could not be found.`);
    const path = `${found.topic.name}/Subscriptions/${found.sub.name}`;
    const ruleEntry = (rule: NamedRule): string =>
      entry(base, `${path}/Rules/${rule.name}`, rule.name, ruleDescription(rule, stamps(path).createdAt));
    const rules = rulesOf(found.sub);
    const name = segments[4];
    if (name === undefined) return [200, feed(base, 'Rules', page(rules).map(ruleEntry))];
    const rule = rules.find((r) => r.name.toLowerCase() === name.toLowerCase());
    if (rule === undefined)
      throw new HttpError(404, `The messaging entity '${path}/Rules/${name}' could not be found.`);
    return [200, ruleEntry(rule)];
  };

  const refuseUpdate = (ifMatch: boolean): void => {
    if (ifMatch)
      throw new HttpError(400, 'Updating an entity is not supported by the emulator: delete it and create it again.');
  };

  const checkQuota = (): void => {
    if (namespace.entityCount() >= quotas.maxEntities)
      throw new HttpError(
        403,
        `The namespace already has ${String(quotas.maxEntities)} entities (the emulator's quota).`,
      );
  };

  const stamp = (path: string): void => {
    const now = new Date(clock.now()).toISOString();
    created.set(path.toLowerCase(), { createdAt: now, updatedAt: now });
  };

  const createQueueOrTopic = (name: string, body: string, base: string): string => {
    if (!entityName.test(name))
      throw new HttpError(
        400,
        `Entity name '${name}' is not valid: 1-260 letters, digits, '.', '-' or '_', starting with a letter or digit.`,
      );
    const content = description(body);
    if (namespace.queue(name) !== undefined || namespace.topic(name) !== undefined)
      throw new HttpError(409, `The messaging entity '${name}' already exists.`);
    checkQuota();
    const fields = flat(content);
    if (content.name === 'QueueDescription') {
      const properties = {
        ...receivableProperties(fields, base),
        RequiresDuplicateDetection: bool(fields, 'RequiresDuplicateDetection'),
        DuplicateDetectionHistoryTimeWindow: fields.get('DuplicateDetectionHistoryTimeWindow'),
      };
      const queue = fromConfig({ Queues: [{ Name: name, Properties: properties }] }).queues[0];
      if (queue === undefined) throw new HttpError(500, 'The queue definition was lost.');
      namespace.addQueue(queue);
      stamp(name);
      log(`admin: created queue ${name}`);
      return queueXml(queue, base);
    }
    if (content.name === 'TopicDescription') {
      const topic = fromConfig({
        Topics: [
          {
            Name: name,
            Properties: {
              DefaultMessageTimeToLive: fields.get('DefaultMessageTimeToLive'),
              RequiresDuplicateDetection: bool(fields, 'RequiresDuplicateDetection'),
              DuplicateDetectionHistoryTimeWindow: fields.get('DuplicateDetectionHistoryTimeWindow'),
            },
          },
        ],
      }).topics[0];
      if (topic === undefined) throw new HttpError(500, 'The topic definition was lost.');
      namespace.addTopic(topic);
      stamp(name);
      log(`admin: created topic ${name}`);
      return topicXml(topic, base);
    }
    throw new HttpError(400, `PUT /${name} needs a QueueDescription or TopicDescription, got ${content.name}.`);
  };

  const createSubscription = (topic: TopicDefinition, name: string, body: string, base: string): string => {
    if (!subscriptionName.test(name))
      throw new HttpError(
        400,
        `Subscription name '${name}' is not valid: 1-50 letters, digits, '.', '-' or '_', starting with a letter or digit.`,
      );
    const content = description(body);
    if (content.name !== 'SubscriptionDescription')
      throw new HttpError(400, `PUT /${topic.name}/Subscriptions/${name} needs a SubscriptionDescription.`);
    if (topic.subscriptions.some((s) => s.name.toLowerCase() === name.toLowerCase()))
      throw new HttpError(409, `The messaging entity '${topic.name}/Subscriptions/${name}' already exists.`);
    checkQuota();
    const rule = child(content, 'DefaultRuleDescription');
    const parsed = fromConfig({
      Topics: [
        {
          Name: topic.name,
          Properties: { DefaultMessageTimeToLive: xmlDuration(topic.defaultTtlMs) },
          Subscriptions: [
            {
              Name: name,
              Properties: receivableProperties(flat(content), base),
              ...(rule === undefined ? {} : { Rules: [ruleFrom(rule)] }),
            },
          ],
        },
      ],
    }).topics[0]?.subscriptions[0];
    if (parsed === undefined) throw new HttpError(500, 'The subscription definition was lost.');
    namespace.addSubscription(topic.name, parsed);
    const path = `${topic.name}/Subscriptions/${name}`;
    stamp(path);
    log(`admin: created subscription ${path}`);
    return subscriptionXml(topic, parsed, base);
  };

  const receivableProperties = (fields: Map<string, string>, base: string) => ({
    LockDuration: fields.get('LockDuration'),
    RequiresSession: bool(fields, 'RequiresSession'),
    DefaultMessageTimeToLive: fields.get('DefaultMessageTimeToLive'),
    DeadLetteringOnMessageExpiration: bool(fields, 'DeadLetteringOnMessageExpiration'),
    MaxDeliveryCount: int(fields, 'MaxDeliveryCount'),
    ForwardTo: forwardTarget(fields.get('ForwardTo'), base),
    ForwardDeadLetteredMessagesTo: forwardTarget(fields.get('ForwardDeadLetteredMessagesTo'), base),
  });

  /** The client sends forward targets as absolute URIs on this host; the emulator keeps queue names. */
  const forwardTarget = (value: string | undefined, base: string): string | undefined => {
    if (value === undefined || value.trim() === '') return undefined;
    let name = value.trim();
    if (name.toLowerCase().startsWith(base.toLowerCase())) name = name.slice(base.length);
    else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(name)) name = new URL(name).pathname;
    name = decodeURIComponent(name.replace(/^\/+|\/+$/g, ''));
    if (namespace.queue(name) === undefined)
      throw new HttpError(400, `Forwarding target '${name}' is not a queue of this namespace.`);
    return name;
  };

  const fromConfig = (entities: { Queues?: unknown[]; Topics?: unknown[] }) => {
    try {
      return parseEmulatorConfig({
        UserConfig: { Namespaces: [{ Name: namespace.definition.name, ...entities }] },
      });
    } catch (error) {
      throw new HttpError(400, error instanceof Error ? error.message : String(error));
    }
  };

  return createServer((request, response) => {
    serve(request, response).catch((error: unknown) => {
      log(`admin: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) reply(response, 500, errorXml(500, 'The emulator failed to answer.'));
    });
  });

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const method = request.method ?? 'GET';
    const hostHeader = request.headers.host ?? 'localhost';
    const base = `http://${hostHeader}`;
    try {
      const auth = request.headers.authorization;
      if (auth === undefined) throw new HttpError(401, 'MissingToken: the Authorization header is required.');
      const check = verifySasToken(auth, undefined, key, clock.now());
      if (!check.ok) throw new HttpError(401, check.description);
      const url = new URL(request.url ?? '/', base);
      const [status, xml] = handle(method, url, body, request.headers['if-match'] !== undefined, base);
      reply(response, status, xml, xml.startsWith('<feed') ? 'feed' : 'entry');
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      log(`admin: ${method} ${request.url ?? ''} → ${String(status)} ${message}`);
      reply(response, status, errorXml(status, message));
    }
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        reject(new Error(`request body over ${String(maxBodyBytes)} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', reject);
  });
}

function reply(
  response: ServerResponse,
  status: number,
  xml: string,
  kind: 'entry' | 'feed' | 'error' = 'error',
): void {
  const type = kind === 'error' ? 'application/xml; charset=utf-8' : `application/atom+xml;type=${kind};charset=utf-8`;
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(xml) });
  response.end(xml);
}

function errorXml(status: number, detail: string): string {
  return `<Error><Code>${String(status)}</Code><Detail>${escapeXml(detail)}</Detail></Error>`;
}

function entry(base: string, path: string, title: string, content: string): string {
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

function feed(base: string, title: string, entries: string[]): string {
  return `<feed xmlns="${atom}"><title type="text">${title}</title><id>${escapeXml(base)}/$Resources/${title}</id>${entries.map((e) => e.replace(` xmlns="${atom}"`, '')).join('')}</feed>`;
}

/** The QueueDescription / TopicDescription / SubscriptionDescription inside an ATOM entry. */
function description(body: string): XmlElement {
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
  if (type === 'CorrelationFilter' && filter !== undefined) {
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
    return { Name: name, Properties: { FilterType: 'Correlation', CorrelationFilter: correlation } };
  }
  throw new HttpError(400, `Rule filter type '${type}' is not supported by the emulator.`);
}

/**
 * One port for both protocols: an AMQP client's first byte is the 'A' of its protocol header, an
 * HTTP request starts with a method name. The first chunk is put back before handing the socket on.
 */
export function listenShared(
  host: string,
  port: number,
  amqp: (socket: Socket) => void,
  http: HttpServer,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === 0x41) {
        coalesceWritesPerTick(socket);
        amqp(socket);
      } else http.emit('connection', socket);
      socket.resume();
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      if (address === null || typeof address !== 'object') {
        reject(new Error('The emulator could not determine its port.'));
        return;
      }
      resolve({
        server,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => {
              done();
            });
          }),
      });
    });
  });
}
