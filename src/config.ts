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
  };
}

let cached: AppConfig | undefined;

/** The process-wide config, validated on first use; a bad setting fails with its name. */
export function getConfig(): AppConfig {
  cached ??= parseConfig(process.env);
  return cached;
}
