import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { errorXml } from './adminAtom';
import { HttpError } from './adminError';
import { ManagementRoutes } from './adminRoutes';
import { coalesceWritesPerTick } from './coalesceWrites';
import { verifySasToken, type SharedAccessKey } from './cbs';
import type { Clock } from './clock';
import type { Namespace } from './namespace';

/**
 * The HTTP side of the management (ATOM/XML) API that ServiceBusAdministrationClient speaks: create,
 * get, list and delete queues, topics and subscriptions while the emulator runs, with runtime counts.
 * With UseDevelopmentEmulator=true the .NET client sends plain HTTP to the connection string's
 * host and port, i.e. the AMQP port; listenShared() tells the two protocols apart by the first byte.
 * Here: reading the request, checking its SAS token, answering; adminRoutes.ts decides what a request
 * does, adminAtom.ts writes the answers, adminDefinitions.ts reads the entity descriptions.
 */

export interface AdminOptions {
  namespace: Namespace;
  key: SharedAccessKey;
  clock: Clock;
  log: (line: string) => void;
}

const maxBodyBytes = 1024 * 1024;

export function createAdminServer(options: AdminOptions): HttpServer {
  const routes = new ManagementRoutes(options.namespace, options.clock, options.log);
  return createServer((request, response) => {
    serve(request, response, routes, options).catch((error: unknown) => {
      options.log(`admin: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) reply(response, 500, errorXml(500, 'The emulator failed to answer.'));
    });
  });
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  routes: ManagementRoutes,
  { key, clock, log }: AdminOptions,
): Promise<void> {
  const body = await readBody(request);
  const method = request.method ?? 'GET';
  const base = `http://${request.headers.host ?? 'localhost'}`;
  try {
    const auth = request.headers.authorization;
    if (auth === undefined) throw new HttpError(401, 'MissingToken: the Authorization header is required.');
    const check = verifySasToken(auth, undefined, key, clock.now());
    if (!check.ok) throw new HttpError(401, check.description);
    const url = new URL(request.url ?? '/', base);
    const [status, xml] = routes.handle({
      method,
      url,
      body,
      ifMatch: request.headers['if-match'] !== undefined,
      base,
    });
    reply(response, status, xml, xml.startsWith('<feed') ? 'feed' : 'entry');
  } catch (error) {
    const status = error instanceof HttpError ? error.status : 500;
    const message = error instanceof Error ? error.message : String(error);
    log(`admin: ${method} ${request.url ?? ''} → ${String(status)} ${message}`);
    reply(response, status, errorXml(status, message));
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        reject(new Error(`request body over ${String(maxBodyBytes)} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', reject);
  });
}

function reply(
  response: ServerResponse,
  status: number,
  xml: string,
  kind: 'entry' | 'feed' | 'error' = 'error',
): void {
  const type = kind === 'error' ? 'application/xml; charset=utf-8' : `application/atom+xml;type=${kind};charset=utf-8`;
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(xml) });
  response.end(xml);
}

/**
 * One port for both protocols: an AMQP client's first byte is the 'A' of its protocol header, an
 * HTTP request starts with a method name. The first chunk is put back before handing the socket on.
 */
export function listenShared(
  host: string,
  port: number,
  amqp: (socket: Socket) => void,
  http: HttpServer,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === 0x41) {
        coalesceWritesPerTick(socket);
        amqp(socket);
      } else http.emit('connection', socket);
      socket.resume();
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      if (address === null || typeof address !== 'object') {
        reject(new Error('The emulator could not determine its port.'));
        return;
      }
      resolve({
        server,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => {
              done();
            });
          }),
      });
    });
  });
}
