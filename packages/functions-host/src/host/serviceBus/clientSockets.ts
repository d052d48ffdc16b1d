import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { coalesceWritesPerTick } from './coalesceWrites';

let enabled = false;

function isSocket(value: unknown): value is Socket {
  return typeof value === 'object' && value !== null && 'setNoDelay' in value && typeof value.setNoDelay === 'function';
}

/**
 * Tunes client sockets opened from this process for AMQP's many small frames:
 * - Nagle off. The JS AMQP stack writes small frames back to back (attach, flow, put-token), and with
 *   Nagle each second frame waits for the peer's delayed ACK (~40 ms): accepting a session took
 *   ~45 ms instead of ~3 ms. The .NET client the real Functions host uses sets NoDelay too.
 * - Frames written in one tick leave in one writev (coalesceWritesPerTick), as the .NET client sends
 *   the frames it queued while a write was in flight together.
 */
export function tuneClientSocketsForAmqp(): void {
  if (enabled) return;
  enabled = true;
  diagnostics.subscribe('net.client.socket', (message) => {
    const socket: unknown =
      typeof message === 'object' && message !== null && 'socket' in message ? message.socket : undefined;
    if (!isSocket(socket)) return;
    socket.setNoDelay(true);
    // Node resets an own `write` set before the socket connects; rhea writes nothing before this event.
    socket.once('connect', () => {
      coalesceWritesPerTick(socket);
    });
  });
}
