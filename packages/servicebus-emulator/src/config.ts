import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * Entities come from the official Service Bus emulator's Config.json shape, so one file works for
 * both. Absent properties take the defaults below; unknown properties are ignored like the official
 * emulator ignores them.
 */

const duration = z.string().trim().min(1);
const optionalName = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const entityProperties = {
  DeadLetteringOnMessageExpiration: z.boolean().optional(),
  DefaultMessageTimeToLive: duration.optional(),
  LockDuration: duration.optional(),
  MaxDeliveryCount: z.number().int().min(1).max(2000).optional(),
  RequiresSession: z.boolean().optional(),
  ForwardTo: optionalName,
  ForwardDeadLetteredMessagesTo: optionalName,
};

const correlationFilterSchema = z.object({
  ContentType: z.string().optional(),
  CorrelationId: z.string().optional(),
  Label: z.string().optional(),
  MessageId: z.string().optional(),
  ReplyTo: z.string().optional(),
  ReplyToSessionId: z.string().optional(),
  SessionId: z.string().optional(),
  To: z.string().optional(),
  Properties: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

const ruleSchema = z.object({
  Name: z.string().min(1),
  Properties: z.object({
    FilterType: z.enum(['Correlation', 'Sql']),
    CorrelationFilter: correlationFilterSchema.optional(),
    SqlFilter: z.object({ SqlExpression: z.string() }).optional(),
  }),
});

const queueSchema = z.object({
  Name: z.string().min(1),
  Properties: z
    .object({
      ...entityProperties,
      RequiresDuplicateDetection: z.boolean().optional(),
      DuplicateDetectionHistoryTimeWindow: duration.optional(),
    })
    .optional(),
});

const subscriptionSchema = z.object({
  Name: z.string().min(1),
  Properties: z.object(entityProperties).optional(),
  Rules: z.array(ruleSchema).optional(),
});

const topicSchema = z.object({
  Name: z.string().min(1),
  Properties: z
    .object({
      DefaultMessageTimeToLive: duration.optional(),
      RequiresDuplicateDetection: z.boolean().optional(),
      DuplicateDetectionHistoryTimeWindow: duration.optional(),
    })
    .optional(),
  Subscriptions: z.array(subscriptionSchema).optional(),
});

export const emulatorConfigFileSchema = z.object({
  UserConfig: z.object({
    Namespaces: z
      .array(
        z.object({
          Name: z.string().min(1),
          Queues: z.array(queueSchema).optional(),
          Topics: z.array(topicSchema).optional(),
        }),
      )
      .length(1, 'exactly one namespace is supported (as in the official emulator)'),
    Logging: z.object({ Type: z.string() }).optional(),
  }),
});

export type EmulatorConfigFile = z.input<typeof emulatorConfigFileSchema>;

/** Same limits as the official emulator (see docs/emulator.md). */
export const quotas = {
  maxEntities: 50,
  maxMessageSizeBytes: 256 * 1024,
  maxTimeToLiveMs: 60 * 60 * 1000,
} as const;

export interface ReceivableSettings {
  requiresSession: boolean;
  lockDurationMs: number;
  maxDeliveryCount: number;
  defaultTtlMs: number;
  deadLetterOnExpiration: boolean;
  forwardTo: string | undefined;
  forwardDeadLetteredTo: string | undefined;
}

export interface DuplicateDetection {
  enabled: boolean;
  windowMs: number;
}

export interface QueueDefinition {
  kind: 'queue';
  name: string;
  settings: ReceivableSettings;
  duplicateDetection: DuplicateDetection;
}

export type RuleFilter =
  | { type: 'true' }
  | { type: 'false' }
  | {
      type: 'correlation';
      system: Partial<Record<CorrelationSystemProperty, string>>;
      properties: Record<string, string | number | boolean>;
    }
  | { type: 'sql-equals'; property: string; system: boolean; value: string | number | boolean };

export type CorrelationSystemProperty =
  'contentType' | 'correlationId' | 'subject' | 'messageId' | 'replyTo' | 'replyToSessionId' | 'sessionId' | 'to';

export interface SubscriptionDefinition {
  name: string;
  settings: ReceivableSettings;
  rules: { name: string; filter: RuleFilter }[];
}

export interface TopicDefinition {
  kind: 'topic';
  name: string;
  defaultTtlMs: number;
  duplicateDetection: DuplicateDetection;
  subscriptions: SubscriptionDefinition[];
}

export interface NamespaceDefinition {
  name: string;
  queues: QueueDefinition[];
  topics: TopicDefinition[];
}

const defaults = {
  lockDurationMs: 60_000,
  maxDeliveryCount: 10,
  defaultTtlMs: quotas.maxTimeToLiveMs,
  duplicateWindowMs: 10 * 60_000,
};

/** Parses ISO-8601 durations (`PT30S`, `P1DT2H`, `PT0.5S`) and .NET TimeSpans (`00:01:00`). */
export function parseDuration(text: string, field: string): number {
  const iso = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(
    text,
  );
  if (iso !== null && text.toUpperCase() !== 'P' && !text.toUpperCase().endsWith('T')) {
    const [, d, h, m, s] = iso;
    return Math.round((Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3_600 + Number(m ?? 0) * 60 + Number(s ?? 0)) * 1000);
  }
  const span = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(text);
  if (span !== null) {
    const [, d, h, m, s] = span;
    return Math.round((Number(d ?? 0) * 86_400 + Number(h) * 3_600 + Number(m) * 60 + Number(s)) * 1000);
  }
  throw new Error(`${field}: "${text}" is not an ISO-8601 duration such as PT30S.`);
}

function settingsFrom(
  props: z.infer<typeof subscriptionSchema>['Properties'],
  where: string,
  topicTtlMs: number,
): ReceivableSettings {
  const ttl =
    props?.DefaultMessageTimeToLive === undefined
      ? topicTtlMs
      : parseDuration(props.DefaultMessageTimeToLive, `${where}.DefaultMessageTimeToLive`);
  return {
    requiresSession: props?.RequiresSession ?? false,
    lockDurationMs:
      props?.LockDuration === undefined
        ? defaults.lockDurationMs
        : parseDuration(props.LockDuration, `${where}.LockDuration`),
    maxDeliveryCount: props?.MaxDeliveryCount ?? defaults.maxDeliveryCount,
    defaultTtlMs: Math.min(ttl, quotas.maxTimeToLiveMs),
    deadLetterOnExpiration: props?.DeadLetteringOnMessageExpiration ?? false,
    forwardTo: props?.ForwardTo,
    forwardDeadLetteredTo: props?.ForwardDeadLetteredMessagesTo,
  };
}

function duplicateDetectionFrom(
  props:
    | { RequiresDuplicateDetection?: boolean | undefined; DuplicateDetectionHistoryTimeWindow?: string | undefined }
    | undefined,
  where: string,
): DuplicateDetection {
  return {
    enabled: props?.RequiresDuplicateDetection ?? false,
    windowMs:
      props?.DuplicateDetectionHistoryTimeWindow === undefined
        ? defaults.duplicateWindowMs
        : parseDuration(props.DuplicateDetectionHistoryTimeWindow, `${where}.DuplicateDetectionHistoryTimeWindow`),
  };
}

const sqlEquals = /^\s*(sys\.)?([A-Za-z_][\w.-]*)\s*=\s*(?:'((?:[^']|'')*)'|(-?\d+(?:\.\d+)?)|(true|false))\s*$/i;

/** Only the SQL forms people use for routing in samples: 1=1, 1=0 and `[sys.]name = literal`. */
function parseSqlFilter(expression: string, where: string): RuleFilter {
  const trimmed = expression.trim();
  if (/^1\s*=\s*1$/.test(trimmed)) return { type: 'true' };
  if (/^1\s*=\s*0$/.test(trimmed)) return { type: 'false' };
  const match = sqlEquals.exec(trimmed);
  if (match === null) {
    throw new Error(
      `${where}: SQL filter "${expression}" is not supported by this emulator (supported: 1=1, 1=0, [sys.]name = 'text' | number | true/false); use a Correlation filter.`,
    );
  }
  const [, sys, name, text, num, bool] = match;
  const value =
    text !== undefined ? text.replace(/''/g, "'") : num !== undefined ? Number(num) : bool?.toLowerCase() === 'true';
  return { type: 'sql-equals', property: name ?? '', system: sys !== undefined, value };
}

function ruleFrom(rule: z.infer<typeof ruleSchema>, where: string): RuleFilter {
  if (rule.Properties.FilterType === 'Sql') {
    if (rule.Properties.SqlFilter === undefined)
      throw new Error(`${where}: FilterType Sql needs SqlFilter.SqlExpression.`);
    return parseSqlFilter(rule.Properties.SqlFilter.SqlExpression, where);
  }
  const c = rule.Properties.CorrelationFilter;
  if (c === undefined) throw new Error(`${where}: FilterType Correlation needs CorrelationFilter.`);
  const system: Partial<Record<CorrelationSystemProperty, string>> = {};
  if (c.ContentType !== undefined) system.contentType = c.ContentType;
  if (c.CorrelationId !== undefined) system.correlationId = c.CorrelationId;
  if (c.Label !== undefined) system.subject = c.Label;
  if (c.MessageId !== undefined) system.messageId = c.MessageId;
  if (c.ReplyTo !== undefined) system.replyTo = c.ReplyTo;
  if (c.ReplyToSessionId !== undefined) system.replyToSessionId = c.ReplyToSessionId;
  if (c.SessionId !== undefined) system.sessionId = c.SessionId;
  if (c.To !== undefined) system.to = c.To;
  return { type: 'correlation', system, properties: c.Properties ?? {} };
}

/** Validates a parsed Config.json and turns it into entity definitions; errors name the offending field. */
export function parseEmulatorConfig(input: unknown): NamespaceDefinition {
  const parsed = emulatorConfigFileSchema.safeParse(input);
  if (!parsed.success) {
    throw new Error(`Invalid emulator config:\n${z.prettifyError(parsed.error)}`);
  }
  const ns = parsed.data.UserConfig.Namespaces[0];
  if (ns === undefined) throw new Error('Invalid emulator config: no namespace.');
  const queues: QueueDefinition[] = (ns.Queues ?? []).map((q, i) => {
    const where = `Queues[${i}] (${q.Name})`;
    return {
      kind: 'queue',
      name: q.Name,
      settings: settingsFrom(q.Properties, where, defaults.defaultTtlMs),
      duplicateDetection: duplicateDetectionFrom(q.Properties, where),
    };
  });
  const topics: TopicDefinition[] = (ns.Topics ?? []).map((t, i) => {
    const where = `Topics[${i}] (${t.Name})`;
    const ttl =
      t.Properties?.DefaultMessageTimeToLive === undefined
        ? defaults.defaultTtlMs
        : Math.min(
            parseDuration(t.Properties.DefaultMessageTimeToLive, `${where}.DefaultMessageTimeToLive`),
            quotas.maxTimeToLiveMs,
          );
    return {
      kind: 'topic',
      name: t.Name,
      defaultTtlMs: ttl,
      duplicateDetection: duplicateDetectionFrom(t.Properties, where),
      subscriptions: (t.Subscriptions ?? []).map((s, j) => {
        const subWhere = `${where}.Subscriptions[${j}] (${s.Name})`;
        return {
          name: s.Name,
          settings: settingsFrom(s.Properties, subWhere, ttl),
          rules: (s.Rules ?? []).map((r, k) => ({ name: r.Name, filter: ruleFrom(r, `${subWhere}.Rules[${k}]`) })),
        };
      }),
    };
  });
  const names = new Set<string>();
  for (const name of [...queues.map((q) => q.name), ...topics.map((t) => t.name)]) {
    const key = name.toLowerCase();
    if (names.has(key)) throw new Error(`Invalid emulator config: entity "${name}" is defined twice.`);
    names.add(key);
  }
  const entityCount = queues.length + topics.reduce((n, t) => n + 1 + t.subscriptions.length, 0);
  if (entityCount > quotas.maxEntities) {
    throw new Error(`Invalid emulator config: ${entityCount} entities, the quota is ${quotas.maxEntities}.`);
  }
  return { name: ns.Name, queues, topics };
}

export const defaultConfigPath = join(__dirname, 'config.default.json');

/** The built-in Config.json (queue order-events with sessions), as a fresh object a caller may change. */
export function defaultEmulatorConfig(): EmulatorConfigFile {
  return emulatorConfigFileSchema.parse(readConfigFile(defaultConfigPath));
}

/** Loads a Config.json from disk (or the built-in default). */
export function loadEmulatorConfig(source: string | EmulatorConfigFile | undefined): NamespaceDefinition {
  if (source === undefined || typeof source === 'string')
    return parseEmulatorConfig(readConfigFile(source ?? defaultConfigPath));
  return parseEmulatorConfig(source);
}

function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read emulator config ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(
      `Emulator config ${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
