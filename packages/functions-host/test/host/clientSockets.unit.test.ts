import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { tuneClientSocketsForAmqp } from '../../src/host/serviceBus/clientSockets';

describe('client socket tuning for AMQP frames', () => {
  it('holds the writes of one tick and sends them together after it', async () => {
    tuneClientSocketsForAmqp();
    const received: Buffer[] = [];
    const server = createServer((peer) => peer.on('data', (chunk: Buffer) => received.push(chunk)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const client: Socket = connect(port, '127.0.0.1');
    try {
      await once(client, 'connect');
      const frames = [Buffer.from('flow'), Buffer.from('disposition'), Buffer.from('transfer')];
      for (const frame of frames) client.write(frame);
      // Still in the tick of the writes: nothing has gone to the kernel yet.
      assert.equal(client.writableCorked, 1);
      assert.equal(client.writableLength, 23);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(client.writableCorked, 0);
      assert.equal(client.writableLength, 0);
      for (let waited = 0; Buffer.concat(received).length < 23 && waited < 2_000; waited += 5)
        await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(Buffer.concat(received).toString(), 'flowdispositiontransfer');
    } finally {
      client.destroy();
      server.close();
    }
  });
});
