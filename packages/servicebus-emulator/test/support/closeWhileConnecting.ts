// Run as its own process by restart.int.test.ts: it must exit by itself once the emulator has
// closed. A client holds the emulator's close open (its socket paused, so it never answers), and a
// second client connects during that grace period, as a host does that reconnects at once.
import type { Socket } from 'node:net';
import * as rhea from 'rhea';
import { startEmulator } from '../../src/index';
import { waitFor } from '../../src/rawClient';
import { testConfig } from '../helpers';

const socketOf = (connection: rhea.Connection): Socket => (connection as unknown as { socket: Socket }).socket;
// The idle timeout makes the emulator's side keep a heartbeat timer while the connection is open.
const connect = (port: number) =>
  rhea.create_container().connect({ host: '127.0.0.1', port, reconnect: false, idle_time_out: 60_000 });

async function main(): Promise<void> {
  const emulator = await startEmulator({ config: testConfig });
  const holdout = connect(emulator.port);
  holdout.on('disconnected', () => undefined);
  await waitFor(holdout, 'connection_open');
  socketOf(holdout).pause();

  const closing = emulator.close();
  const late = connect(emulator.port);
  let lateOpened = false;
  late.on('connection_open', () => {
    lateOpened = true;
  });
  const lateGone = waitFor(late, 'disconnected');
  await closing;
  await lateGone;
  socketOf(holdout).resume(); // reads the end, so the client side lets go too
  await waitFor(holdout, 'disconnected');
  process.stdout.write(`${JSON.stringify({ lateOpened })}\n`);
}

void main();
