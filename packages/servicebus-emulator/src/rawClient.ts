import { randomUUID } from 'node:crypto';
import * as rhea from 'rhea';
import { createSasToken } from './cbs';
import { emulatorKey } from './index';

/**
 * A bare AMQP client for the protocol corners the SDK does not expose (detaching a parked attach,
 * get-message-sessions). It speaks the same CBS handshake the SDK does.
 */
export interface RawClient {
  connection: rhea.Connection;
  authorize(path: string): Promise<void>;
  request(path: string, operation: string, body: Record<string, unknown>): Promise<rhea.Message>;
  close(): Promise<void>;
}

export function waitFor<T>(
  emitter: { once(event: string, listener: (ctx: T) => void): unknown },
  event: string,
): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

export async function connectRaw(port: number): Promise<RawClient> {
  const container = rhea.create_container();
  const connection = container.connect({ host: '127.0.0.1', port, reconnect: false });
  await waitFor(connection, 'connection_open');
  const replyTo = `reply-${randomUUID()}`;
  const pending = new Map<string, (m: rhea.Message) => void>();
  const onReply = (ctx: rhea.EventContext) => {
    const message = ctx.message;
    const id: unknown = message?.correlation_id;
    if (message !== undefined && typeof id === 'string') pending.get(id)?.(message);
  };
  const cbsSender = connection.open_sender('$cbs');
  const cbsReceiver = connection.open_receiver({ source: { address: '$cbs' }, target: { address: replyTo } });
  cbsReceiver.on('message', onReply);
  await Promise.all([waitFor(cbsSender, 'sendable'), waitFor(cbsReceiver, 'receiver_open')]);
  const links = new Map<string, { sender: rhea.Sender; replyTo: string }>();

  const call = (sender: rhea.Sender, message: rhea.Message): Promise<rhea.Message> => {
    const id = randomUUID();
    return new Promise((resolve) => {
      pending.set(id, resolve);
      sender.send({ ...message, message_id: id });
    });
  };

  return {
    connection,
    async authorize(path) {
      const audience = `sb://localhost:${port}/${path}`;
      const token = createSasToken(audience, emulatorKey, Math.floor(Date.now() / 1000) + 3600);
      const reply = await call(cbsSender, {
        reply_to: replyTo,
        application_properties: { operation: 'put-token', name: audience, type: 'servicebus.windows.net:sastoken' },
        body: token,
      });
      const props: unknown = reply.application_properties;
      const status =
        typeof props === 'object' && props !== null && 'status-code' in props ? props['status-code'] : undefined;
      if (status !== 202) throw new Error(`put-token failed: ${JSON.stringify(props)}`);
    },
    async request(path, operation, body) {
      let link = links.get(path);
      if (link === undefined) {
        const address = `${path}/$management`;
        const linkReplyTo = `mgmt-${randomUUID()}`;
        const sender = connection.open_sender(address);
        const receiver = connection.open_receiver({ source: { address }, target: { address: linkReplyTo } });
        receiver.on('message', onReply);
        await Promise.all([waitFor(sender, 'sendable'), waitFor(receiver, 'receiver_open')]);
        link = { sender, replyTo: linkReplyTo };
        links.set(path, link);
      }
      return call(link.sender, { reply_to: link.replyTo, application_properties: { operation }, body });
    },
    async close() {
      const closed = waitFor(connection, 'connection_close');
      connection.close();
      await closed;
    },
  };
}
