import { ServiceBusClient, type ServiceBusClientOptions } from '@azure/service-bus';
import { ManualClock, startEmulator, type EmulatorConfigFile, type RunningEmulator } from '../src/index';

/** Entities for the emulator tests: short locks and small delivery counts keep them fast. */
export const testConfig: EmulatorConfigFile = {
  UserConfig: {
    Namespaces: [
      {
        Name: 'sbemulatorns',
        Queues: [
          {
            Name: 'orders',
            Properties: {
              RequiresSession: true,
              LockDuration: 'PT5S',
              MaxDeliveryCount: 3,
              RequiresDuplicateDetection: true,
              DuplicateDetectionHistoryTimeWindow: 'PT1M',
              DeadLetteringOnMessageExpiration: true,
            },
          },
          {
            Name: 'plain',
            Properties: {
              LockDuration: 'PT5S',
              MaxDeliveryCount: 3,
              DeadLetteringOnMessageExpiration: true,
            },
          },
          { Name: 'drop-expired', Properties: { DefaultMessageTimeToLive: 'PT10S' } },
        ],
        Topics: [
          {
            Name: 'events',
            Subscriptions: [
              { Name: 'all' },
              {
                Name: 'checkouts',
                Rules: [
                  {
                    Name: 'only-checkouts',
                    Properties: {
                      FilterType: 'Correlation',
                      CorrelationFilter: { Label: 'BasketCheckedOut', Properties: { region: 'eu' } },
                    },
                  },
                ],
              },
              {
                Name: 'vip',
                Rules: [
                  { Name: 'sql', Properties: { FilterType: 'Sql', SqlFilter: { SqlExpression: "tier = 'gold'" } } },
                ],
              },
              { Name: 'by-session', Properties: { RequiresSession: true } },
            ],
          },
        ],
      },
    ],
  },
};

/** Retry quickly: several tests provoke non-retryable errors, none should wait on backoff. */
export const fastRetry: ServiceBusClientOptions = { retryOptions: { maxRetries: 0, timeoutInMs: 10_000 } };

export interface Harness {
  emulator: RunningEmulator;
  client: ServiceBusClient;
  clock: ManualClock | undefined;
  close(): Promise<void>;
}

export async function startHarness(
  options: { manualClock?: boolean; clientOptions?: ServiceBusClientOptions } = {},
): Promise<Harness> {
  const clock = options.manualClock === true ? new ManualClock(Date.now()) : undefined;
  const emulator = await startEmulator(clock === undefined ? { config: testConfig } : { config: testConfig, clock });
  const client = new ServiceBusClient(emulator.connectionString, options.clientOptions ?? fastRetry);
  return {
    emulator,
    client,
    clock,
    close: async () => {
      await client.close();
      await emulator.close();
    },
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` holds (emulator state changes arrive over the wire, a few ms later). */
export async function eventually(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`Timed out waiting for: ${what}`);
    await delay(5);
  }
}

export function entityStats(harness: Harness, path: string) {
  const found = harness.emulator.stats().entities.find((e) => e.path.toLowerCase() === path.toLowerCase());
  if (found === undefined) throw new Error(`No entity ${path}`);
  return found;
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string')
    return error.code;
  return undefined;
}

/** The one item of a list (`at` keeps the undefined case visible to every type checker). */
export function single<T>(items: T[]): T {
  const item = items.at(0);
  if (item === undefined || items.length !== 1) throw new Error(`Expected exactly one item, got ${items.length}.`);
  return item;
}
