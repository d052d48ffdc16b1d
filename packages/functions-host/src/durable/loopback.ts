import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listens on 127.0.0.1 (the local host's and the durable API's servers take no outside callers);
 * resolves to the bound address once listening, rejects with the listen error (e.g. EADDRINUSE).
 */
export async function listenOnLoopback(server: Server, port: number): Promise<AddressInfo | string | null> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address();
}
