import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { RetryMode, ServiceBusClient, type ServiceBusClientOptions } from '@azure/service-bus';
import type { ServiceBusOptions } from '../hostConfig';

type Env = Record<string, string | undefined>;

/**
 * Where a `connection` setting points, resolved as the extension does: `<name>` as a connection
 * string, or identity-based `<name>__fullyQualifiedNamespace` (+ `__credential`, `__clientId`).
 * An unset `connection` means `AzureWebJobsServiceBus`.
 */
export type ServiceBusConnection =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'identity'; fullyQualifiedNamespace: string; credential: string | undefined; clientId: string | undefined };

export function resolveConnection(setting: string | undefined, env: Env): ServiceBusConnection {
  const name = setting === undefined || setting === '' ? 'AzureWebJobsServiceBus' : setting;
  const candidates = [name, `AzureWebJobs${name}`];
  for (const candidate of candidates) {
    const value = env[candidate]?.trim();
    if (value !== undefined && value !== '') return { kind: 'connectionString', connectionString: value };
    const namespace = env[`${candidate}__fullyQualifiedNamespace`]?.trim();
    if (namespace !== undefined && namespace !== '') {
      return {
        kind: 'identity',
        fullyQualifiedNamespace: namespace,
        credential: env[`${candidate}__credential`],
        clientId: env[`${candidate}__clientId`],
      };
    }
  }
  throw new Error(
    `Service Bus connection setting "${name}" is missing: set ${name} (connection string) or ${name}__fullyQualifiedNamespace (identity).`,
  );
}

export function describeConnection(connection: ServiceBusConnection): string {
  if (connection.kind === 'identity') return `sb://${connection.fullyQualifiedNamespace} (identity)`;
  const endpoint = /Endpoint=([^;]+)/i.exec(connection.connectionString)?.[1];
  return endpoint ?? '(connection string)';
}

/**
 * How long one acceptNextSession waits for a free session before asking again. The SDK cannot
 * cancel a pending accept (neither abortSignal nor close() reaches it; it holds the process for
 * its whole timeout), so a short window keeps shutdown quick; behaviour is unchanged because the
 * processor asks again straight away.
 */
export const acceptWindowMs = 3_000;

/** `operationTimeoutMs` bounds every SDK operation, acceptNextSession included. */
export function createClient(
  connection: ServiceBusConnection,
  options: ServiceBusOptions,
  operationTimeoutMs = options.retry.tryTimeoutMs,
): ServiceBusClient {
  const clientOptions: ServiceBusClientOptions = {
    retryOptions: {
      mode: options.retry.mode === 'fixed' ? RetryMode.Fixed : RetryMode.Exponential,
      timeoutInMs: operationTimeoutMs,
      retryDelayInMs: options.retry.delayMs,
      maxRetryDelayInMs: options.retry.maxDelayMs,
      maxRetries: options.retry.maxRetries,
    },
  };
  if (connection.kind === 'connectionString') return new ServiceBusClient(connection.connectionString, clientOptions);
  const credential: TokenCredential =
    connection.credential?.toLowerCase() === 'managedidentity'
      ? new ManagedIdentityCredential(connection.clientId === undefined ? {} : { clientId: connection.clientId })
      : new DefaultAzureCredential(
          connection.clientId === undefined ? {} : { managedIdentityClientId: connection.clientId },
        );
  return new ServiceBusClient(connection.fullyQualifiedNamespace, credential, clientOptions);
}
