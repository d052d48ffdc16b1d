import type { Socket } from 'node:net';

/**
 * rhea writes every AMQP frame with its own socket.write, and with Nagle off each is a syscall and a
 * TCP segment the peer must read on its own. Corking on the first write of a tick and uncorking once
 * the tick's callbacks and promise jobs have run sends the frames of one turn (a transfer and its
 * flow, dispositions of several sessions) in one writev, without waiting for anything.
 */
export function coalesceWritesPerTick(socket: Socket): void {
  const write = socket.write.bind(socket);
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  socket.write = ((...args: Parameters<Socket['write']>) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as Socket['write'];
}
