import type { Socket } from 'node:net';
import { Connection } from 'rhea-promise';

/** The rhea 3.0.5 connection under a rhea-promise one: what the guard reads and calls. */
interface RheaConnection {
  socket?: Socket;
  is_closed(): boolean;
  /** Detaches rhea from the socket, ends and destroys it, then runs rhea's own disconnect. */
  abort_socket(socket: Socket): void;
  once(event: 'disconnected', listener: () => void): void;
  removeListener(event: 'disconnected', listener: () => void): void;
}

function rheaOf(connection: Connection): RheaConnection {
  return (connection as unknown as { _connection: RheaConnection })._connection;
}

let installed = false;

/**
 * Works around a race in the Azure SDK's AMQP stack (rhea-promise 3.0.3 over rhea 3.0.5) that sent
 * the emulator a second open on one socket ("Open already received") when it restarted:
 *
 * 1. The broker closes the connection; rhea answers the close. The connection is now closed, but its
 *    socket has not ended (the peer's FIN is a round trip away).
 * 2. The SDK (core-amqp `CbsClient.init`) sees a connection that is not open and calls rhea-promise's
 *    `open()`, which calls rhea's `connect()` on the same connection: a new socket, an open queued.
 * 3. The old socket ends. rhea never removed its listeners (`Connection.init` only adds them), so its
 *    `eof` runs `_disconnected` on the connection that now belongs to the new socket: the open
 *    already queued is forgotten (`state.disconnected()`) and the pending `open()` fails.
 * 4. The new socket connects and sends the queued open; the peer answers with its open, which rhea
 *    (`on_open`, local side not open any more) answers with a second open.
 *
 * Guard: an `open()` that finds the connection closed with its socket still attached first lets go of
 * that socket with rhea's own `abort_socket`, so its disconnect happens now and not on the new socket.
 * If rhea reports that disconnect (the broker had closed the connection), `open()` fails as it did
 * once the old socket ended, and the SDK moves to a new connection; otherwise it opens as asked.
 */
export function guardReopenOfClosingConnections(): void {
  if (installed) return;
  installed = true;
  type Open = (this: Connection, ...args: Parameters<Connection['open']>) => Promise<Connection>;
  const open: Open = Reflect.get(Connection.prototype, 'open');
  Connection.prototype.open = function (this: Connection, ...args) {
    if (!this.isOpen() && releaseClosingSocket(rheaOf(this))) {
      return Promise.reject(
        new Error(
          'Failed to connect: the broker had closed this connection and its socket had not ended yet; open a new connection.',
        ),
      );
    }
    return open.apply(this, args);
  };
}

/** Lets go of the socket of a closed connection that has not ended yet; true if rhea reported a disconnect. */
function releaseClosingSocket(connection: RheaConnection): boolean {
  const socket = connection.socket;
  if (socket === undefined || socket.destroyed || socket.readableEnded || !connection.is_closed()) return false;
  let reported = false;
  const onDisconnected = () => {
    reported = true;
  };
  connection.once('disconnected', onDisconnected);
  connection.abort_socket(socket);
  connection.removeListener('disconnected', onDisconnected);
  return reported;
}
