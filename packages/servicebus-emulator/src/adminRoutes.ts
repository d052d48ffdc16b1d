import {
  entry,
  feed,
  namespaceEntry,
  queueEntry,
  subscriptionEntry,
  topicEntry,
  type EntityFacts,
  type MessageCounts,
  type Timestamps,
} from './adminAtom';
import {
  checkEntityName,
  checkSubscriptionName,
  description,
  queueFrom,
  subscriptionFrom,
  topicFrom,
  type DefinitionContext,
} from './adminDefinitions';
import { HttpError } from './adminError';
import { ruleDescription, rulesOf, type NamedRule } from './adminRules';
import type { Clock } from './clock';
import { quotas, type SubscriptionDefinition, type TopicDefinition } from './config';
import type { Namespace } from './namespace';

/**
 * The management API's routes: which path and method does what to the namespace, and which ATOM
 * answer goes back. Paths as the ServiceBusAdministrationClients call them:
 * `$namespaceinfo`, `$Resources/{Queues|Topics}`, `<entity>`, `<topic>/Subscriptions[/<name>[/Rules[/<rule>]]]`.
 */

export interface ManagementRequest {
  method: string;
  url: URL;
  body: string;
  /** An If-Match header: the client updates an existing entity. */
  ifMatch: boolean;
  /** `http://host:port` as the client addressed this server. */
  base: string;
}

/** [status, ATOM/XML body] */
export type ManagementAnswer = [number, string];

export class ManagementRoutes {
  private readonly startedAt: string;
  /** Created-at times of entities made through this API (Config.json entities show the start time). */
  private readonly created = new Map<string, Timestamps>();

  constructor(
    private readonly namespace: Namespace,
    private readonly clock: Clock,
    private readonly log: (line: string) => void,
  ) {
    this.startedAt = new Date(clock.now()).toISOString();
  }

  handle(request: ManagementRequest): ManagementAnswer {
    const { method, url, base } = request;
    const segments = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
    const [first = '', second] = segments;
    if (segments.length === 1 && first.toLowerCase() === '$namespaceinfo' && method === 'GET')
      return [200, namespaceEntry(base, this.namespace.definition.name, this.startedAt)];
    if (segments.length === 2 && first === '$Resources' && method === 'GET') return this.list(second ?? '', request);
    if (segments.length === 1) {
      const answer = this.entity(first, request);
      if (answer !== undefined) return answer;
    }
    if (second?.toLowerCase() === 'subscriptions') {
      const answer = this.subscriptions(segments, request);
      if (answer !== undefined) return answer;
    }
    throw new HttpError(400, `${method} ${url.pathname} is not a management operation the emulator supports.`);
  }

  /** GET $Resources/Queues | $Resources/Topics */
  private list(kind: string, request: ManagementRequest): ManagementAnswer {
    const { base } = request;
    const facts = this.facts();
    const { queues, topics } = this.namespace.definition;
    const lists: Record<string, (() => string[]) | undefined> = {
      queues: () => page(queues, request.url).map((q) => queueEntry(q, base, facts)),
      topics: () => page(topics, request.url).map((t) => topicEntry(t, base, facts)),
    };
    const entries = lists[kind.toLowerCase()];
    if (entries !== undefined)
      return [200, feed(base, kind.toLowerCase() === 'queues' ? 'Queues' : 'Topics', entries())];
    throw new HttpError(404, `No resource list '${kind}' (queues and topics are supported).`);
  }

  /** GET, DELETE or PUT (create) of a queue or topic. */
  private entity(name: string, request: ManagementRequest): ManagementAnswer | undefined {
    const { method, base } = request;
    if (method === 'GET') {
      const queue = this.namespace.queue(name);
      if (queue !== undefined) return [200, queueEntry(queue, base, this.facts())];
      const topic = this.namespace.topic(name);
      if (topic !== undefined) return [200, topicEntry(topic, base, this.facts())];
      throw notFound(name);
    }
    if (method === 'DELETE') {
      if (!this.namespace.removeEntity(name)) throw notFound(name);
      return this.deleted(name);
    }
    if (method === 'PUT') {
      refuseUpdate(request.ifMatch);
      return [201, this.createQueueOrTopic(name, request)];
    }
    return undefined;
  }

  /** `<topic>/Subscriptions[/<name>[/Rules...]]` */
  private subscriptions(segments: string[], request: ManagementRequest): ManagementAnswer | undefined {
    const { method, base } = request;
    const [topicName = '', , name, rules] = segments;
    const topic = this.namespace.topic(topicName);
    if (topic === undefined) throw notFound(topicName);
    if (segments.length === 2 && method === 'GET') {
      const facts = this.facts();
      const entries = page(topic.subscriptions, request.url).map((s) => subscriptionEntry(topic, s, base, facts));
      return [200, feed(base, 'Subscriptions', entries)];
    }
    if (segments.length === 3 && name !== undefined) return this.subscription(topic, name, request);
    if (rules?.toLowerCase() === 'rules') {
      if (method === 'GET' && segments.length <= 5) return this.readRules(segments, request);
      throw new HttpError(
        400,
        'Creating, updating or deleting rules is not supported by the emulator: give rules in Config.json.',
      );
    }
    return undefined;
  }

  /** GET, DELETE or PUT (create) of one subscription. */
  private subscription(topic: TopicDefinition, name: string, request: ManagementRequest): ManagementAnswer | undefined {
    const { method, base } = request;
    const path = `${topic.name}/Subscriptions/${name}`;
    if (method === 'GET') {
      const sub = findSubscription(topic, name);
      if (sub === undefined) throw notFound(path);
      return [200, subscriptionEntry(topic, sub, base, this.facts())];
    }
    if (method === 'DELETE') {
      if (!this.namespace.removeSubscription(topic.name, name)) throw notFound(path);
      return this.deleted(path);
    }
    if (method === 'PUT') {
      refuseUpdate(request.ifMatch);
      return [201, this.createSubscription(topic, name, request)];
    }
    return undefined;
  }

  /** GET <topic>/Subscriptions/<sub>/Rules[/<rule>]: the rules routing applies, read-only. */
  private readRules(segments: string[], request: ManagementRequest): ManagementAnswer {
    const [topicName = '', , subName = '', , ruleName] = segments;
    const topic = this.namespace.topic(topicName);
    const sub = topic === undefined ? undefined : findSubscription(topic, subName);
    if (topic === undefined || sub === undefined) throw notFound(`${topicName}/Subscriptions/${subName}`);
    const path = `${topic.name}/Subscriptions/${sub.name}`;
    const createdAt = this.times(path).createdAt;
    const ruleEntry = (rule: NamedRule): string =>
      entry(request.base, `${path}/Rules/${rule.name}`, rule.name, ruleDescription(rule, createdAt));
    const rules = rulesOf(sub);
    if (ruleName === undefined) return [200, feed(request.base, 'Rules', page(rules, request.url).map(ruleEntry))];
    const rule = rules.find((r) => r.name.toLowerCase() === ruleName.toLowerCase());
    if (rule === undefined) throw notFound(`${path}/Rules/${ruleName}`);
    return [200, ruleEntry(rule)];
  }

  private createQueueOrTopic(name: string, request: ManagementRequest): string {
    checkEntityName(name);
    const content = description(request.body);
    if (this.namespace.queue(name) !== undefined || this.namespace.topic(name) !== undefined)
      throw new HttpError(409, `The messaging entity '${name}' already exists.`);
    this.checkQuota();
    const context = this.definitionContext(request.base);
    if (content.name === 'QueueDescription') {
      const queue = queueFrom(name, content, context);
      this.namespace.addQueue(queue);
      this.stamp(name, `queue ${name}`);
      return queueEntry(queue, request.base, this.facts());
    }
    if (content.name === 'TopicDescription') {
      const topic = topicFrom(name, content, context);
      this.namespace.addTopic(topic);
      this.stamp(name, `topic ${name}`);
      return topicEntry(topic, request.base, this.facts());
    }
    throw new HttpError(400, `PUT /${name} needs a QueueDescription or TopicDescription, got ${content.name}.`);
  }

  private createSubscription(topic: TopicDefinition, name: string, request: ManagementRequest): string {
    checkSubscriptionName(name);
    const content = description(request.body);
    if (content.name !== 'SubscriptionDescription')
      throw new HttpError(400, `PUT /${topic.name}/Subscriptions/${name} needs a SubscriptionDescription.`);
    if (findSubscription(topic, name) !== undefined)
      throw new HttpError(409, `The messaging entity '${topic.name}/Subscriptions/${name}' already exists.`);
    this.checkQuota();
    const subscription = subscriptionFrom(topic, name, content, this.definitionContext(request.base));
    this.namespace.addSubscription(topic.name, subscription);
    const path = `${topic.name}/Subscriptions/${name}`;
    this.stamp(path, `subscription ${path}`);
    return subscriptionEntry(topic, subscription, request.base, this.facts());
  }

  private deleted(path: string): ManagementAnswer {
    this.created.delete(path.toLowerCase());
    this.log(`admin: deleted ${path}`);
    return [200, ''];
  }

  private checkQuota(): void {
    if (this.namespace.entityCount() >= quotas.maxEntities)
      throw new HttpError(
        403,
        `The namespace already has ${String(quotas.maxEntities)} entities (the emulator's quota).`,
      );
  }

  private stamp(path: string, what: string): void {
    const now = new Date(this.clock.now()).toISOString();
    this.created.set(path.toLowerCase(), { createdAt: now, updatedAt: now });
    this.log(`admin: created ${what}`);
  }

  private times(path: string): Timestamps {
    return this.created.get(path.toLowerCase()) ?? { createdAt: this.startedAt, updatedAt: this.startedAt };
  }

  private counts(path: string): MessageCounts {
    const main = this.namespace.receivableFor(path)?.stats();
    const dead = this.namespace.receivableFor(`${path}/$DeadLetterQueue`)?.stats();
    const active = (main?.active ?? 0) + (main?.locked ?? 0);
    const deadLetter = (dead?.active ?? 0) + (dead?.locked ?? 0) + (dead?.deferred ?? 0);
    const scheduled = main?.scheduled ?? 0;
    return { total: active + (main?.deferred ?? 0) + scheduled + deadLetter, active, deadLetter, scheduled };
  }

  private facts(): EntityFacts {
    return {
      counts: (path) => this.counts(path),
      times: (path) => this.times(path),
      now: () => new Date(this.clock.now()).toISOString(),
    };
  }

  private definitionContext(base: string): DefinitionContext {
    return {
      namespaceName: this.namespace.definition.name,
      base,
      isQueue: (name) => this.namespace.queue(name) !== undefined,
    };
  }
}

/** `$skip` / `$top` of a list request (the clients page with both). */
function page<T>(items: T[], url: URL): T[] {
  const skip = Number(url.searchParams.get('$skip') ?? 0);
  const top = Number(url.searchParams.get('$top') ?? 100);
  return items.slice(skip, skip + top);
}

function findSubscription(topic: TopicDefinition, name: string): SubscriptionDefinition | undefined {
  return topic.subscriptions.find((s) => s.name.toLowerCase() === name.toLowerCase());
}

function notFound(path: string): HttpError {
  return new HttpError(404, `The messaging entity '${path}' could not be found.`);
}

function refuseUpdate(ifMatch: boolean): void {
  if (ifMatch)
    throw new HttpError(400, 'Updating an entity is not supported by the emulator: delete it and create it again.');
}
