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
 * Runs table operations on a table created on first use, once per client (per process). A failed
 * creation is forgotten so the next call retries instead of caching the failure. When the table
 * vanishes later (deleted by an operator or a storage reset: TableNotFound), it is created again
 * and the operation retried once, instead of failing until the process restarts.
 */
export type TableRunner = <T>(operation: (client: TableClient) => Promise<T>) => Promise<T>;

export function lazyTable(client: TableClient): TableRunner {
  let created: Promise<void> | undefined;
  const ensure = async (): Promise<void> => {
    created ??= client.createTable().catch((error: unknown) => {
      created = undefined;
      throw error;
    });
    await created;
  };
  return async (operation) => {
    await ensure();
    try {
      return await operation(client);
    } catch (error) {
      if (!isTableNotFound(error)) throw error;
      created = undefined;
      await ensure();
      return operation(client);
    }
  };
}

const tableErrorShape = z.object({
  statusCode: z.literal(404),
  code: z.string().optional(),
  details: z.object({ errorCode: z.string().optional() }).optional(),
});

/** A 404 for the table itself, not for an entity (ResourceNotFound). */
export function isTableNotFound(error: unknown): boolean {
  const parsed = tableErrorShape.safeParse(error);
  if (!parsed.success) return false;
  return parsed.data.code === 'TableNotFound' || parsed.data.details?.errorCode === 'TableNotFound';
}

const restErrorShape = z.object({ statusCode: z.number() });

/** The HTTP status of a storage error, if it is one. */
export function statusCodeOf(error: unknown): number | undefined {
  const parsed = restErrorShape.safeParse(error);
  return parsed.success ? parsed.data.statusCode : undefined;
}
