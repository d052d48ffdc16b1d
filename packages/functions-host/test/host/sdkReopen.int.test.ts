import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Connection, ConnectionEvents } from 'rhea-promise';
import { startEmulator, type RunningEmulator } from '@convoy/servicebus-emulator';
import { guardReopenOfClosingConnections } from '../../src/host/serviceBus/reopenGuard';

/**
 * The Azure SDK (core-amqp's CbsClient.init) calls rhea-promise's open() on a connection as soon as it
 * is not open, and after a close that is already so while the old socket is still ending. Unguarded,
 * rhea runs the old socket's late end against the connection's new socket: the open it had queued is
 * forgotten, and the peer's open is answered with a second one ("Open already received" at the
 * emulator, seen in the soak's emulator restart). Reproduced here without timing: open() runs right
 * after the close, before the old socket's end can arrive.
 */

interface RheaSide {
  socket?: Socket;
  options: { port: number };
}

function rheaOf(connection: Connection): RheaSide {
  return (connection as unknown as { _connection: RheaSide })._connection;
}

/** SASL ANONYMOUS with a user name, as core-amqp opens the SDK's connection. */
function sdkLikeConnection(port: number): Connection {
  return new Connection({
    host: '127.0.0.1',
    port,
    reconnect: false,
    username: 'RootManageSharedAccessKey',
    operationTimeoutInSeconds: 10,
  });
}

let emulator: RunningEmulator;

before(async () => {
  guardReopenOfClosingConnections();
  emulator = await startEmulator();
});

after(async () => {
  await emulator.close();
});

describe('reopening a connection whose socket is still closing (rhea-promise 3.0.3 over rhea 3.0.5)', () => {
  it('closed by the client: the connection opens again, with one open on its new socket', async () => {
    const connection = sdkLikeConnection(emulator.port);
    await connection.open();
    // close() resolves on the emulator's close: the socket has not ended yet when open() runs.
    await connection.close();
    await connection.open();
    assert.equal(connection.isOpen(), true);
    await connection.close();
    assert.deepEqual(emulator.protocolErrors(), []);
  });

  it('closed by the broker (an emulator restart): the open fails, and no second open reaches the broker', async () => {
    const stopping = await startEmulator();
    const connection = sdkLikeConnection(stopping.port);
    await connection.open();
    // The emulator that comes back: `emulator`, on another port here, so the old one can take its time.
    rheaOf(connection).options.port = emulator.port;
    const reopened = new Promise<unknown>((resolve) => {
      connection.once(ConnectionEvents.connectionClose, () => {
        // After rhea has answered the close (next tick), as the SDK's open comes.
        setImmediate(() => {
          connection.open().then(resolve, resolve);
        });
      });
    });
    const closing = stopping.close();
    const outcome = await reopened;
    assert.ok(outcome instanceof Error, 'the reopen of a connection the broker closed fails');
    // Unguarded, a new socket is left behind on the failed connection: it sends the open twice (the
    // emulator ends it for that) or, when the old socket's end came first, never (it hangs there).
    assert.equal(rheaOf(connection).socket?.destroyed, true, 'no live socket is left on the failed connection');
    await closing;
    assert.deepEqual([...stopping.protocolErrors(), ...emulator.protocolErrors()], []);
  });
});
