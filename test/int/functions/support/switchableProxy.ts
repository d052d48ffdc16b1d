import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a fixed local port in front of a real server, which a test can take down and bring
 * back: while down, connections are refused (the port is closed) and open ones are cut — what a
 * storage outage looks like to a client. Azurite keeps its in-memory data across the outage, so
 * the test can show that nothing was lost once storage is back.
 */
export interface SwitchableProxy {
  port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startSwitchableProxy(targetPort: number): Promise<SwitchableProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const next = createServer((client) => {
        const upstream = connect(targetPort, '127.0.0.1');
        track(client);
        track(upstream);
        client.pipe(upstream).pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
      });
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        const address = next.address();
        if (address !== null && typeof address === 'object') port = address.port;
        server = next;
        resolve();
      });
    });

  const down = (): Promise<void> =>
    new Promise((resolve) => {
      const current = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      if (current === undefined) resolve();
      else
        current.close(() => {
          resolve();
        });
    });

  await listen();
  return {
    get port() {
      return port;
    },
    down,
    up: () => (server === undefined ? listen() : Promise.resolve()),
    close: down,
  };
}
