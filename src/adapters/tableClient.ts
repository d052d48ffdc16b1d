import { TableClient } from '@azure/data-tables';
import { z } from 'zod';
import type { TableConnectionConfig } from '../config';
import { azureCredential } from './azureCredential';

/** A TableClient for a connection string (Azurite, shared key) or an identity (Azure). */
export function tableClientFor(connection: TableConnectionConfig, table: string): TableClient {
  if (connection.kind === 'connectionString') {
    // Azurite speaks plain http; the SDK refuses shared-key auth over http unless told otherwise.
    const insecure = /DefaultEndpointsProtocol=http(;|$)|TableEndpoint=http:\/\//i.test(connection.connectionString);
    return TableClient.fromConnectionString(connection.connectionString, table, { allowInsecureConnection: insecure });
  }
  return new TableClient(connection.tableServiceUri, table, azureCredential(connection.clientId));
}

/**
 * Creates the table on first use, once per client (per process). A failed attempt is forgotten so
 * the next call retries instead of caching the failure.
 */
export function lazyTable(client: TableClient): () => Promise<TableClient> {
  let created: Promise<void> | undefined;
  return async () => {
    created ??= client.createTable().catch((error: unknown) => {
      created = undefined;
      throw error;
    });
    await created;
    return client;
  };
}

const restErrorShape = z.object({ statusCode: z.number() });

/** The HTTP status of a storage error, if it is one. */
export function statusCodeOf(error: unknown): number | undefined {
  const parsed = restErrorShape.safeParse(error);
  return parsed.success ? parsed.data.statusCode : undefined;
}
