import { z } from 'zod';
import { maxEventsPerBasket } from './domain/recordBudget';

/**
 * Every setting the app reads, validated once. A connection is either a connection string
 * (local: Azurite, the emulator) or identity-based (Azure: `<name>__fullyQualifiedNamespace` /
 * `<name>__tableServiceUri`, optionally `__clientId` for a user-assigned identity).
 */
export type ServiceBusConnectionConfig =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'identity'; fullyQualifiedNamespace: string; clientId: string | undefined };

export type TableConnectionConfig =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'identity'; tableServiceUri: string; clientId: string | undefined };

export interface AppConfig {
  serviceBus: ServiceBusConnectionConfig;
  orderEventsQueue: string;
  orderStore: TableConnectionConfig;
  ordersTable: string;
  quarantineTable: string;
  defaultStockPerSku: number;
  maxParkedEvents: number;
  /** How long one invocation holds a message through transient failures before abandoning it. */
  transientHoldMs: number;
  /** The console's tables: the in-flight index and the live metrics. */
  inFlightTable: string;
  consoleMetricsTable: string;
  /** A basket not terminal whose last progress is older than this is stuck. */
  stuckThresholdMs: number;
  /** Width of the in-flight index's last-progress time buckets (derived from the threshold). */
  inFlightBucketMs: number;
  /** NCRONTAB schedule of the stuckBasketWatchdog timer (read by the host as %STUCK_WATCHDOG_SCHEDULE%). */
  stuckWatchdogSchedule: string;
  /** POST /api/sessions publishes test baskets only when this is on. */
  testProducerEnabled: boolean;
}

/** Names of the settings, shared with registrations (`%ORDER_EVENTS_QUEUE%`) and infra checks. */
export const settingNames = {
  serviceBusConnection: 'ServiceBusConnection',
  orderEventsQueue: 'ORDER_EVENTS_QUEUE',
  orderStoreConnection: 'OrderStoreConnection',
  ordersTable: 'ORDERS_TABLE',
  quarantineTable: 'QUARANTINE_TABLE',
  defaultStockPerSku: 'DEFAULT_STOCK_PER_SKU',
  maxParkedEvents: 'MAX_PARKED_EVENTS',
  transientHoldSeconds: 'TRANSIENT_HOLD_SECONDS',
  inFlightTable: 'INFLIGHT_TABLE',
  consoleMetricsTable: 'CONSOLE_METRICS_TABLE',
  stuckThresholdSeconds: 'STUCK_THRESHOLD_SECONDS',
  stuckWatchdogSchedule: 'STUCK_WATCHDOG_SCHEDULE',
  testProducerEnabled: 'TEST_PRODUCER_ENABLED',
} as const;

/**
 * The hold must end inside host.json's maxAutoLockRenewalDuration (5 min), with room for the last
 * attempt and the abandon; 0 turns holding off (abandon on the first transient failure).
 */
export const maxTransientHoldSeconds = 270;

const nonEmpty = z.string().trim().min(1);
const tableName = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9]{2,62}$/,
    'must be 3-63 letters or digits, starting with a letter (Azure table name rules)',
  );
const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function read<T>(env: Env, name: string, schema: z.ZodType<T>, fallback?: string): T {
  const raw = env[name] ?? fallback;
  if (raw === undefined || raw === '') {
    throw new ConfigError(`Setting ${name} is missing.`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`Setting ${name} is invalid: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  return parsed.data;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function readServiceBus(env: Env): ServiceBusConnectionConfig {
  const name = settingNames.serviceBusConnection;
  const connectionString = optional(env, name);
  if (connectionString !== undefined) return { kind: 'connectionString', connectionString };
  const fullyQualifiedNamespace = optional(env, `${name}__fullyQualifiedNamespace`);
  if (fullyQualifiedNamespace !== undefined) {
    return { kind: 'identity', fullyQualifiedNamespace, clientId: optional(env, `${name}__clientId`) };
  }
  throw new ConfigError(
    `Setting ${name} (connection string) or ${name}__fullyQualifiedNamespace (identity) is missing.`,
  );
}

function readTables(env: Env): TableConnectionConfig {
  const name = settingNames.orderStoreConnection;
  const connectionString = optional(env, name);
  if (connectionString !== undefined) return { kind: 'connectionString', connectionString };
  const tableServiceUri = optional(env, `${name}__tableServiceUri`);
  if (tableServiceUri !== undefined) {
    return { kind: 'identity', tableServiceUri, clientId: optional(env, `${name}__clientId`) };
  }
  throw new ConfigError(`Setting ${name} (connection string) or ${name}__tableServiceUri (identity) is missing.`);
}

export function parseConfig(env: Env): AppConfig {
  return {
    serviceBus: readServiceBus(env),
    orderEventsQueue: read(env, settingNames.orderEventsQueue, nonEmpty),
    orderStore: readTables(env),
    ordersTable: read(env, settingNames.ordersTable, tableName, 'orders'),
    quarantineTable: read(env, settingNames.quarantineTable, tableName, 'quarantine'),
    defaultStockPerSku: read(env, settingNames.defaultStockPerSku, positiveInt(1_000_000_000), '1000'),
    // More could never park: a basket has at most maxEventsPerBasket sequences.
    maxParkedEvents: read(env, settingNames.maxParkedEvents, positiveInt(maxEventsPerBasket), '100'),
    transientHoldMs:
      read(
        env,
        settingNames.transientHoldSeconds,
        z.coerce
          .number()
          .int('must be whole seconds')
          .min(0, 'must be 0 or more')
          .max(
            maxTransientHoldSeconds,
            `must be at most ${String(maxTransientHoldSeconds)} (inside the 5 min session lock auto-renewal)`,
          ),
        '240',
      ) * 1000,
    ...readConsole(env),
  };
}

/** A week: a basket quiet for longer than that is stuck by any measure. */
export const maxStuckThresholdSeconds = 7 * 24 * 3600;

/**
 * Six NCRONTAB fields ({second} {minute} {hour} {day} {month} {day-of-week}), as the Functions timer
 * trigger reads them; the TimeSpan form is refused because Flex Consumption does not run it.
 */
const ncrontab = z
  .string()
  .trim()
  .refine(
    (value) => {
      const fields = value.split(/\s+/);
      return fields.length === 6 && fields.every((field) => /^[0-9A-Za-z*/,-]+$/.test(field));
    },
    { error: 'must be an NCRONTAB expression with six fields, e.g. "0 */1 * * * *" (every minute)' },
  );

const onOff = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false'], { error: 'must be true or false' }))
  .transform((value) => value === 'true');

/**
 * A fifth of the threshold (so a basket is reported at most a fifth late), between 1 s and 60 s: a
 * basket moving through the convoy crosses a bucket — one index write — at most once a minute.
 */
export function inFlightBucketMsFor(thresholdMs: number): number {
  return Math.min(60_000, Math.max(1_000, Math.floor(thresholdMs / 5)));
}

function readConsole(env: Env) {
  const stuckThresholdMs =
    read(
      env,
      settingNames.stuckThresholdSeconds,
      z.coerce
        .number()
        .int('must be whole seconds')
        .min(1, 'must be at least 1')
        .max(maxStuckThresholdSeconds, `must be at most ${String(maxStuckThresholdSeconds)} (a week)`),
      '300',
    ) * 1000;
  return {
    inFlightTable: read(env, settingNames.inFlightTable, tableName, 'inflight'),
    consoleMetricsTable: read(env, settingNames.consoleMetricsTable, tableName, 'consolemetrics'),
    stuckThresholdMs,
    inFlightBucketMs: inFlightBucketMsFor(stuckThresholdMs),
    stuckWatchdogSchedule: read(env, settingNames.stuckWatchdogSchedule, ncrontab, '0 */1 * * * *'),
    testProducerEnabled: read(env, settingNames.testProducerEnabled, onOff, 'true'),
  };
}

let cached: AppConfig | undefined;

/** The process-wide config, validated on first use; a bad setting fails with its name. */
export function getConfig(): AppConfig {
  cached ??= parseConfig(process.env);
  return cached;
}
