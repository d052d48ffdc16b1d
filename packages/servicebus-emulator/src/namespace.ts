import type { Clock } from './clock';
import { conditions, type AmqpErrorShape, type ParsedMessage } from './codec';
import type {
  DuplicateDetection,
  NamespaceDefinition,
  QueueDefinition,
  ReceivableSettings,
  RuleFilter,
  SubscriptionDefinition,
  TopicDefinition,
} from './config';
import { quotas } from './config';
import { CompletionLedger } from './completionLedger';
import { MessageEntity, type EntityStats } from './entities';
import type { StoredMessage } from './entityState';
import {
  acceptedRecord,
  recoveredEntities,
  type JournalRecord,
  type RecoveredEntity,
  type JournalSink,
  type Recovered,
} from './journal';

/** Remembers message ids for the duplicate-detection window; Map order is arrival order. */
class DuplicateDetector {
  private readonly seen = new Map<string, number>();
  /**
   * No remembered id expires before this (a lower bound: the first entry's expiry, or Infinity when
   * empty), so the sweep runs only when something can be dropped instead of on every send.
   */
  private sweepAt = Infinity;

  constructor(
    private readonly settings: DuplicateDetection,
    private readonly clock: Clock,
    private readonly key = '',
    private readonly journal?: JournalSink,
  ) {}

  /** Ids remembered before a restart (--data-dir), oldest first. */
  restore(ids: Map<string, number>): void {
    const now = this.clock.now();
    for (const [id, expires] of ids) {
      if (expires <= now) continue;
      this.seen.delete(id);
      this.seen.set(id, expires);
      this.sweepAt = Math.min(this.sweepAt, expires);
    }
  }

  *snapshot(): Generator<JournalRecord> {
    const now = this.clock.now();
    for (const [id, expires] of this.seen) if (expires > now) yield { t: 'u', k: this.key, id, x: expires };
  }

  /** True when `messageId` was already accepted inside the window (the send is then dropped). */
  isDuplicate(messageId: string | undefined): boolean {
    if (!this.settings.enabled || messageId === undefined) return false;
    const now = this.clock.now();
    if (this.sweepAt <= now) {
      this.sweepAt = Infinity;
      for (const [id, expires] of this.seen) {
        if (expires > now) {
          this.sweepAt = expires;
          break;
        }
        this.seen.delete(id);
      }
    }
    return (this.seen.get(messageId) ?? 0) > now;
  }

  remember(messageId: string | undefined): void {
    if (!this.settings.enabled || messageId === undefined) return;
    this.seen.delete(messageId);
    const expires = this.clock.now() + this.settings.windowMs;
    this.seen.set(messageId, expires);
    this.sweepAt = Math.min(this.sweepAt, expires);
    this.journal?.duplicateId(this.key, messageId, expires);
  }
}

interface Subscription {
  name: string;
  entity: MessageEntity;
  rules: RuleFilter[];
}

interface SendTarget {
  kind: 'queue' | 'topic';
  name: string;
  duplicates: DuplicateDetector;
  /** The receivable entities a message goes to. */
  route(parsed: ParsedMessage): MessageEntity[];
}

export type SendResult = { ok: true; duplicate: boolean } | { ok: false; error: AmqpErrorShape };
// Shared, read-only: one per send would be garbage on the hot path.
const stored: SendResult = Object.freeze({ ok: true, duplicate: false });
const droppedAsDuplicate: SendResult = Object.freeze({ ok: true, duplicate: true });

function systemValue(parsed: ParsedMessage, name: string): unknown {
  switch (name.toLowerCase()) {
    case 'messageid':
      return parsed.messageId;
    case 'correlationid':
      return parsed.correlationId;
    case 'label':
    case 'subject':
      return parsed.subject;
    case 'to':
      return parsed.to;
    case 'replyto':
      return parsed.replyTo;
    case 'sessionid':
      return parsed.sessionId;
    case 'replytosessionid':
      return parsed.replyToSessionId;
    case 'contenttype':
      return parsed.contentType;
    default:
      return undefined;
  }
}

export function matches(filter: RuleFilter, parsed: ParsedMessage): boolean {
  switch (filter.type) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'sql-equals': {
      const actual = filter.system
        ? systemValue(parsed, filter.property)
        : parsed.applicationProperties[filter.property];
      return actual === filter.value;
    }
    case 'correlation': {
      for (const [name, expected] of Object.entries(filter.system)) {
        if (systemValue(parsed, name) !== expected) return false;
      }
      for (const [name, expected] of Object.entries(filter.properties)) {
        if (parsed.applicationProperties[name] !== expected) return false;
      }
      return true;
    }
    default: {
      const unreachable: never = filter;
      return unreachable;
    }
  }
}

const deadLetterSuffix = '/$deadletterqueue';

/** Every entity of the one namespace, addressed the way the SDK addresses them. */
export class Namespace {
  private readonly targets = new Map<string, SendTarget>();
  /** Queues, subscriptions and their dead-letter queues, by lower-cased path. */
  private readonly receivables = new Map<string, MessageEntity>();
  private readonly topics = new Map<string, Subscription[]>();
  private readonly scheduledOnTopics = new Map<string, Map<number, { entity: MessageEntity; seq: number }[]>>();
  private nextTopicSeq = 1;
  private ledger: CompletionLedger | undefined;

  constructor(
    readonly definition: NamespaceDefinition,
    private readonly clock: Clock,
    private readonly log: (line: string) => void,
    /** Write-ahead journal (--data-dir); absent = in memory only. */
    private readonly journal?: JournalSink,
  ) {
    for (const queue of definition.queues) this.installQueue(queue);
    for (const topic of definition.topics) this.installTopic(topic);
  }

  private installQueue(queue: QueueDefinition): void {
    const entity = this.receivable(queue.name, queue.settings);
    const only = [entity];
    const duplicates = new DuplicateDetector(
      queue.duplicateDetection,
      this.clock,
      queue.name.toLowerCase(),
      this.journal,
    );
    this.targets.set(queue.name.toLowerCase(), {
      kind: 'queue',
      name: queue.name,
      duplicates,
      route: () => only,
    });
  }

  private installTopic(topic: TopicDefinition): void {
    const subscriptions: Subscription[] = topic.subscriptions.map((s) => this.subscription(topic.name, s));
    this.topics.set(topic.name.toLowerCase(), subscriptions);
    const duplicates = new DuplicateDetector(
      topic.duplicateDetection,
      this.clock,
      topic.name.toLowerCase(),
      this.journal,
    );
    this.targets.set(topic.name.toLowerCase(), {
      kind: 'topic',
      name: topic.name,
      duplicates,
      route: (parsed) => subscriptions.filter((s) => s.rules.some((r) => matches(r, parsed))).map((s) => s.entity),
    });
  }

  private subscription(topicName: string, s: SubscriptionDefinition): Subscription {
    return {
      name: s.name,
      entity: this.receivable(`${topicName}/Subscriptions/${s.name}`, s.settings),
      rules: s.rules.length === 0 ? [{ type: 'true' }] : s.rules.map((r) => r.filter),
    };
  }

  /** Entities that exist now (config + created at runtime), for quota checks and the admin API. */
  entityCount(): number {
    return this.definition.queues.length + this.definition.topics.reduce((n, t) => n + 1 + t.subscriptions.length, 0);
  }

  queue(name: string): QueueDefinition | undefined {
    return this.definition.queues.find((q) => q.name.toLowerCase() === name.toLowerCase());
  }

  topic(name: string): TopicDefinition | undefined {
    return this.definition.topics.find((t) => t.name.toLowerCase() === name.toLowerCase());
  }

  /** Runtime creation (admin API). The caller checks names and quotas; a taken name throws. */
  addQueue(queue: QueueDefinition): void {
    if (this.targets.has(queue.name.toLowerCase())) throw new Error(`Entity '${queue.name}' already exists.`);
    this.definition.queues.push(queue);
    this.installQueue(queue);
  }

  addTopic(topic: TopicDefinition): void {
    if (this.targets.has(topic.name.toLowerCase())) throw new Error(`Entity '${topic.name}' already exists.`);
    this.definition.topics.push(topic);
    this.installTopic(topic);
  }

  addSubscription(topicName: string, definition: SubscriptionDefinition): void {
    const topic = this.topic(topicName);
    const subscriptions = this.topics.get(topicName.toLowerCase());
    if (topic === undefined || subscriptions === undefined) throw new Error(`Topic '${topicName}' does not exist.`);
    if (subscriptions.some((s) => s.name.toLowerCase() === definition.name.toLowerCase()))
      throw new Error(`Subscription '${topicName}/${definition.name}' already exists.`);
    topic.subscriptions.push(definition);
    // The topic's route closes over this array, so the new subscription gets messages sent from now on.
    subscriptions.push(this.subscription(topic.name, definition));
  }

  /** Deletes a queue or topic (with its subscriptions) and every message in it; false if absent. */
  removeEntity(name: string): boolean {
    const key = name.toLowerCase();
    const target = this.targets.get(key);
    if (target === undefined) return false;
    this.targets.delete(key);
    if (target.kind === 'queue') {
      this.definition.queues.splice(
        this.definition.queues.findIndex((q) => q.name.toLowerCase() === key),
        1,
      );
      this.dropReceivable(target.name);
    } else {
      for (const s of this.topics.get(key) ?? []) this.dropReceivable(`${target.name}/Subscriptions/${s.name}`);
      this.topics.delete(key);
      this.scheduledOnTopics.delete(key);
      this.definition.topics.splice(
        this.definition.topics.findIndex((t) => t.name.toLowerCase() === key),
        1,
      );
    }
    return true;
  }

  removeSubscription(topicName: string, name: string): boolean {
    const topic = this.topic(topicName);
    const subscriptions = this.topics.get(topicName.toLowerCase());
    const index = subscriptions?.findIndex((s) => s.name.toLowerCase() === name.toLowerCase()) ?? -1;
    if (topic === undefined || subscriptions === undefined || index < 0) return false;
    subscriptions.splice(index, 1);
    topic.subscriptions.splice(
      topic.subscriptions.findIndex((s) => s.name.toLowerCase() === name.toLowerCase()),
      1,
    );
    this.dropReceivable(`${topic.name}/Subscriptions/${name}`);
    return true;
  }

  private dropReceivable(path: string): void {
    for (const key of [path.toLowerCase(), `${path}/$DeadLetterQueue`.toLowerCase()]) {
      const entity = this.receivables.get(key);
      entity?.dispose();
      if (entity !== undefined) this.journal?.dropped(entity.path);
      this.receivables.delete(key);
    }
  }

  private receivable(path: string, settings: ReceivableSettings): MessageEntity {
    const deadLetterPath = `${path}/$DeadLetterQueue`;
    const deadLetter = new MessageEntity(
      deadLetterPath,
      {
        ...settings,
        requiresSession: false,
        maxDeliveryCount: Number.MAX_SAFE_INTEGER,
        defaultTtlMs: Infinity,
        deadLetterOnExpiration: false,
      },
      this.clock,
      { deadLetterTarget: () => undefined, log: this.log, journal: this.journal, completed: this.completed },
    );
    const entity = new MessageEntity(path, settings, this.clock, {
      deadLetterTarget: () =>
        settings.forwardDeadLetteredTo === undefined
          ? deadLetter
          : (this.forwardTarget(settings.forwardDeadLetteredTo) ?? deadLetter),
      log: this.log,
      journal: this.journal,
      completed: this.completed,
    });
    this.receivables.set(path.toLowerCase(), entity);
    this.receivables.set(deadLetterPath.toLowerCase(), deadLetter);
    return entity;
  }

  private forwardTarget(name: string): MessageEntity | undefined {
    const target = this.targets.get(name.toLowerCase());
    if (target?.kind !== 'queue') return undefined;
    return this.receivables.get(name.toLowerCase());
  }

  /** `sb://host/queue` and `/queue` both mean `queue`; names are case-insensitive as in Azure. */
  static normalize(address: string): string {
    let path = address.trim();
    const scheme = /^(?:sb|amqps?):\/\/[^/]+\/?/i.exec(path);
    if (scheme !== null) path = path.slice(scheme[0].length);
    return path.replace(/^\/+|\/+$/g, '').toLowerCase();
  }

  sendTargetExists(address: string): boolean {
    return this.targets.has(Namespace.normalize(address));
  }

  receivableFor(address: string): MessageEntity | undefined {
    return this.receivables.get(Namespace.normalize(address));
  }

  isDeadLetterPath(address: string): boolean {
    return Namespace.normalize(address).endsWith(deadLetterSuffix);
  }

  /** Everything that would make `send` refuse the message, without storing it. */
  validate(address: string, parsed: ParsedMessage): AmqpErrorShape | undefined {
    return this.validateFor(this.targets.get(Namespace.normalize(address)), address, parsed);
  }

  /** Routes one message: duplicate check, size, session id, then storage in each target entity. */
  send(address: string, parsed: ParsedMessage): SendResult {
    const target = this.targets.get(Namespace.normalize(address));
    if (this.journal !== undefined) return this.journal.batch(() => this.sendTo(target, address, parsed));
    return this.sendTo(target, address, parsed);
  }

  /**
   * A batch: refused as a whole if any message would be refused (nothing stored), else each message
   * is sent in order; the first refusal, if any, is returned. The address is resolved once.
   */
  sendAll(address: string, messages: readonly ParsedMessage[]): AmqpErrorShape | undefined {
    const target = this.targets.get(Namespace.normalize(address));
    for (const message of messages) {
      const error = this.validateFor(target, address, message);
      if (error !== undefined) return error;
    }
    const store = (): AmqpErrorShape | undefined => {
      for (const message of messages) {
        const result = this.sendTo(target, address, message);
        if (!result.ok) return result.error;
      }
      return undefined;
    };
    // One journal write per batch, made before the broker acknowledges it.
    return this.journal === undefined ? store() : this.journal.batch(store);
  }

  private validateFor(
    target: SendTarget | undefined,
    address: string,
    parsed: ParsedMessage,
  ): AmqpErrorShape | undefined {
    if (target === undefined)
      return { condition: conditions.notFound, description: `The messaging entity '${address}' could not be found.` };
    if (parsed.size > quotas.maxMessageSizeBytes) {
      return {
        condition: conditions.messageSizeExceeded,
        description: `The received message (size ${parsed.size} bytes) exceeds the limit (${quotas.maxMessageSizeBytes} bytes) for '${target.name}'.`,
      };
    }
    for (const entity of target.route(parsed)) {
      const error = entity.check(parsed);
      if (error !== undefined) return error;
    }
    return undefined;
  }

  private sendTo(target: SendTarget | undefined, address: string, parsed: ParsedMessage): SendResult {
    if (target === undefined) {
      return {
        ok: false,
        error: { condition: conditions.notFound, description: `The messaging entity '${address}' could not be found.` },
      };
    }
    if (parsed.size > quotas.maxMessageSizeBytes) {
      return {
        ok: false,
        error: {
          condition: conditions.messageSizeExceeded,
          description: `The received message (size ${parsed.size} bytes) exceeds the limit (${quotas.maxMessageSizeBytes} bytes) for '${target.name}'.`,
        },
      };
    }
    if (target.duplicates.isDuplicate(parsed.messageId)) {
      this.log(`duplicate message id "${parsed.messageId ?? ''}" on ${target.name} dropped`);
      return droppedAsDuplicate;
    }
    const entities = target.route(parsed);
    for (const entity of entities) {
      const error = entity.check(parsed);
      if (error !== undefined) return { ok: false, error };
    }
    for (const entity of entities) {
      const forward =
        entity.settings.forwardTo === undefined ? undefined : this.forwardTarget(entity.settings.forwardTo);
      (forward ?? entity).accept(parsed);
    }
    target.duplicates.remember(parsed.messageId);
    return stored;
  }

  /**
   * `schedule-message`: stores the message as scheduled in every entity it routes to and returns one
   * sequence number that `cancel` understands (for topics it stands for all subscription copies).
   */
  schedule(address: string, parsed: ParsedMessage): { ok: true; seq: number } | { ok: false; error: AmqpErrorShape } {
    const key = Namespace.normalize(address);
    const target = this.targets.get(key);
    if (target === undefined) {
      return {
        ok: false,
        error: { condition: conditions.notFound, description: `The messaging entity '${address}' could not be found.` },
      };
    }
    const entities = target.route(parsed);
    for (const entity of entities) {
      const error = entity.check(parsed);
      if (error !== undefined) return { ok: false, error };
    }
    const accept = () => entities.map((entity) => ({ entity, seq: entity.accept(parsed).seq }));
    const copies = this.journal === undefined ? accept() : this.journal.batch(accept);
    if (target.kind === 'queue') return { ok: true, seq: copies[0]?.seq ?? 0 };
    const seq = this.nextTopicSeq++;
    let groups = this.scheduledOnTopics.get(key);
    if (groups === undefined) {
      groups = new Map();
      this.scheduledOnTopics.set(key, groups);
    }
    groups.set(seq, copies);
    return { ok: true, seq };
  }

  /** `cancel-scheduled-message`; true when something was cancelled. */
  cancelScheduled(address: string, seq: number): boolean {
    const key = Namespace.normalize(address);
    const groups = this.scheduledOnTopics.get(key);
    if (groups !== undefined) {
      const copies = groups.get(seq) ?? [];
      groups.delete(seq);
      return copies.map((c) => c.entity.cancelScheduled(c.seq)).some(Boolean);
    }
    return this.receivables.get(key)?.cancelScheduled(seq) ?? false;
  }

  /** Keeps completed messages so they can be given back (completionLedger.ts); off unless asked for. */
  retainCompletions(): CompletionLedger {
    this.ledger ??= new CompletionLedger(this.clock, () => this.allEntities(), this.log);
    return this.ledger;
  }

  private readonly completed = (entity: MessageEntity, message: StoredMessage): void => {
    this.ledger?.completed(entity, message);
  };

  allEntities(): MessageEntity[] {
    return [...this.receivables.values()];
  }

  stats(): NamespaceStats {
    const entities = [...this.receivables.values()].map((e) => e.stats());
    return {
      namespace: this.definition.name,
      queues: this.definition.queues.length,
      topics: this.definition.topics.length,
      subscriptions: this.definition.topics.reduce((n, t) => n + t.subscriptions.length, 0),
      entities,
    };
  }

  dispose(): void {
    for (const entity of this.receivables.values()) entity.dispose();
  }

  /**
   * Loads what the journal recovered into the configured entities. Messages of an entity the config no
   * longer has are not dropped: they are returned (and logged) so compaction carries them forward.
   */
  restore(recovered: Recovered): { restored: number; kept: JournalRecord[] } {
    let restored = 0;
    const kept: JournalRecord[] = [];
    for (const item of recoveredEntities(recovered)) {
      const entity = this.receivables.get(item.path.toLowerCase());
      if (entity === undefined) {
        if (item.messages.length > 0 || item.sessionStates.size > 0) {
          this.log(
            `journal: ${item.messages.length} message(s) of '${item.path}', which the config does not define, are kept on disk but not served; add the entity back to serve them`,
          );
          kept.push(...orphanRecords(item));
        }
        continue;
      }
      entity.restore(item);
      restored += item.messages.length;
    }
    for (const [key, ids] of recovered.duplicates) this.targets.get(key)?.duplicates.restore(ids);
    return { restored, kept };
  }

  /** Every journal record that recreates the namespace's durable state (compaction). */
  *snapshot(): Generator<JournalRecord> {
    for (const entity of this.receivables.values()) yield* entity.snapshot();
    for (const target of this.targets.values()) yield* target.duplicates.snapshot();
  }
}

export interface NamespaceStats {
  namespace: string;
  queues: number;
  topics: number;
  subscriptions: number;
  entities: EntityStats[];
}

function* orphanRecords(item: RecoveredEntity): Generator<JournalRecord> {
  yield { t: 'q', e: item.path, n: item.nextSeq };
  for (const message of item.messages)
    yield acceptedRecord(item.path, { ...message, scheduleTimer: undefined, lock: undefined, gone: false });
  for (const [id, state] of item.sessionStates) yield { t: 's', e: item.path, id, v: state.toString('base64') };
}
