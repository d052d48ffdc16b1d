import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

let enabled = false;

function isSocket(value: unknown): value is Socket {
  return typeof value === 'object' && value !== null && 'setNoDelay' in value && typeof value.setNoDelay === 'function';
}

/**
 * Turns Nagle off for client sockets opened from this process. The JS AMQP stack writes small
 * frames back to back (attach, flow, put-token), and with Nagle each second frame waits for the
 * peer's delayed ACK (~40 ms): accepting a session took ~45 ms instead of ~3 ms. The .NET client
 * the real Functions host uses sets NoDelay on its sockets, so this matches it.
 */
export function enableNoDelayForClientSockets(): void {
  if (enabled) return;
  enabled = true;
  diagnostics.subscribe('net.client.socket', (message) => {
    const socket: unknown =
      typeof message === 'object' && message !== null && 'socket' in message ? message.socket : undefined;
    if (isSocket(socket)) socket.setNoDelay(true);
  });
}
