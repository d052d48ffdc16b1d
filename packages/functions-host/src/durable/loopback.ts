import type { Server } from 'node:http';

/**
 * Listens on 127.0.0.1 (the local host's and the durable API's servers take no outside callers);
 * resolves to the bound TCP port once listening, rejects with the listen error (e.g. EADDRINUSE).
 */
export async function listenOnLoopback(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('The server did not get a TCP port.');
  return address.port;
}
