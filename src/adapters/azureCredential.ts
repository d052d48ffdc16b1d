import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';

const credentials = new Map<string, TokenCredential>();

/**
 * One DefaultAzureCredential per identity per process: it caches tokens, so sharing it keeps token
 * requests off the hot path. `clientId` selects a user-assigned managed identity.
 */
export function azureCredential(clientId: string | undefined): TokenCredential {
  const key = clientId ?? '';
  let credential = credentials.get(key);
  if (credential === undefined) {
    credential = new DefaultAzureCredential(clientId === undefined ? {} : { managedIdentityClientId: clientId });
    credentials.set(key, credential);
  }
  return credential;
}
