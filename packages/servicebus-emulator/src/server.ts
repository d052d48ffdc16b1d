import { randomUUID } from 'node:crypto';
import type { Server, Socket } from 'node:net';
import * as rhea from 'rhea';
import { CbsGrants, verifySasToken, type SharedAccessKey } from './cbs';
import type { Clock, Timer } from './clock';
import {
  batchMessageFormat,
  conditions,
  encodeMessage,
  isRecord,
  optionalString,
  parseMessage,
  splitBatch,
  ticksLong,
  typed,
  withMessageId,
  type AmqpErrorShape,
  type ParsedMessage,
} from './codec';
import { quotas } from './config';
import { LinkConsumer, type DispositionEvent } from './consumerLink';
import { handleManagement } from './management';
import type { Namespace } from './namespace';
import {
  discardLateFrames,
  holdAttach,
  outcome,
  keepRawPayloads,
  onRepeatedOpen,
  type OpenFields,
  prepareAttach,
  prepareRefusal,
  rawPayloadOf,
  remoteProperties,
  remoteSettleModes,
  remoteSource,
  remoteTarget,
  socketOf,
} from './rheaInternals';
import type { SessionState } from './entityState';

export interface BrokerOptions {
  namespace: Namespace;
  clock: Clock;
  key: SharedAccessKey;
  log: (line: string) => void;
}

/** What a link is for, decided when it attaches. */
type LinkRole =
  | { kind: 'cbs' }
  | { kind: 'management'; address: string }
  | { kind: 'send'; address: string }
  | { kind: 'consume'; consumer: LinkConsumer }
  | { kind: 'parked'; cancel: () => void }
  | { kind: 'reply' };

class ConnectionState {
  readonly grants = new CbsGrants();
  /** Reply links by the client's receiver address (the request's reply_to). */
  readonly replies = new Map<string, rhea.Sender>();
  readonly consumers = new Set<LinkConsumer>();
  readonly parked = new Set<() => void>();
  constructor(readonly id: number) {}
}

const sessionFilterKey = 'com.microsoft:session-filter';
const defaultAcceptTimeoutMs = 60_000;

/** The AMQP side of the emulator: one rhea container, links mapped onto namespace entities. */
export class Broker {
  private readonly container = rhea.create_container({ id: 'convoy-servicebus-emulator' });
  private readonly connections = new Map<rhea.Connection, ConnectionState>();
  private readonly roles = new WeakMap<rhea.link, LinkRole>();
  private readonly sockets = new Set<Socket>();
  /** When each socket was accepted (ms), for the report of a repeated open. */
  private readonly acceptedAt = new WeakMap<Socket, number>();
  private server: Server | undefined;
  private closing = false;
  private nextConnectionId = 1;
  /** Protocol errors that ended a connection (rhea would only print them): for tests to assert none. */
  private readonly protocolErrorLog: string[] = [];

  constructor(private readonly options: BrokerOptions) {
    keepRawPayloads();
    const mechanisms = this.container.sasl_server_mechanisms as unknown as Record<string, () => unknown> & {
      enable_anonymous(): void;
    };
    mechanisms.enable_anonymous();
    // The .NET client (the Functions host) asks for MSSBCBS: "authentication comes later, over $cbs".
    mechanisms.MSSBCBS = () => ({
      outcome: undefined as boolean | undefined,
      username: undefined as string | undefined,
      start(this: { outcome: boolean | undefined; username: string | undefined }) {
        this.outcome = true;
        this.username = 'cbs';
      },
    });
    this.wire();
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = this.container.listen({
        host,
        port,
        sender_options: { treat_modified_as_released: false },
        receiver_options: { autoaccept: false, credit_window: 1000 },
      } as unknown as rhea.ServerConnectionOptions);
      this.server = server;
      server.on('connection', (socket: Socket) => {
        socket.setNoDelay(true);
        this.sockets.add(socket);
        this.acceptedAt.set(socket, Date.now());
        socket.on('close', () => this.sockets.delete(socket));
      });
      server.once('error', reject);
      server.once('listening', () => {
        const address = server.address();
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('The emulator could not determine its port.'));
      });
    });
  }

  /** Serves an AMQP connection accepted on another listener (the emulator's port also answers HTTP). */
  adopt(socket: Socket): void {
    if (this.server === undefined) throw new Error('The broker adopts connections only after listen().');
    // A connection opened while the broker closes would outlive it (see close()): refuse it.
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.server.emit('connection', socket);
  }

  connectionCount(): number {
    return this.connections.size;
  }

  protocolErrors(): string[] {
    return [...this.protocolErrorLog];
  }

  async close(): Promise<void> {
    this.closing = true;
    const server = this.server;
    // Stop accepting first: a client that reconnects during the grace period below would get a
    // connection nobody closes (rhea keeps its heartbeat timer, and so this process, alive).
    const listenerClosed =
      server === undefined
        ? Promise.resolve()
        : new Promise<void>((resolve) =>
            server.close(() => {
              resolve();
            }),
          );
    for (const [connection, state] of this.connections) {
      this.dropConnection(state);
      // amqp:connection:forced is the condition rhea (and so the Azure SDK) treats as retryable: the
      // client then sees a disconnect and rebuilds its connection, CBS session and links. A clean
      // close (no error) leaves the SDK reusing its old sessions on the next connection.
      connection.close({ condition: 'amqp:connection:forced', description: 'The emulator is shutting down.' });
    }
    this.connections.clear();
    // Let clients answer the close and end their sockets (a reset would reach in-flight calls as
    // ECONNRESET); after 1 s, cut what is left.
    const ended = [...this.sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve)));
    await Promise.race([Promise.all(ended), new Promise((resolve) => setTimeout(resolve, 1000))]);
    // With an error, so rhea sees the socket go ('error', not only 'close') and stops its timers.
    for (const socket of this.sockets) socket.destroy(new Error('The emulator stopped.'));
    await listenerClosed;
  }

  private recordProtocolError(error: unknown, connection: string, detail = ''): void {
    const line = `emulator: AMQP ${String(error)}; ${connection} was closed${detail}`;
    this.protocolErrorLog.push(line);
    console.error(line);
  }

  private log(line: string): void {
    this.options.log(line);
  }

  private stateOf(connection: rhea.Connection): ConnectionState {
    let state = this.connections.get(connection);
    if (state === undefined) {
      state = new ConnectionState(this.nextConnectionId++);
      this.connections.set(connection, state);
    }
    return state;
  }

  private wire(): void {
    this.wireConnections();
    this.wireLinks();
    this.wireErrors();
  }

  private wireConnections(): void {
    const c = this.container;
    c.on('connection_open', (ctx: rhea.EventContext) => {
      const state = this.stateOf(ctx.connection);
      this.log(`connection ${state.id} open`);
      const client = describeClient(ctx.connection);
      let repeatedOpen = '';
      onRepeatedOpen(ctx.connection, (second, first) => {
        const socket = socketOf(ctx.connection);
        const accepted = socket === undefined ? undefined : this.acceptedAt.get(socket);
        repeatedOpen = `; ${describeRepeatedOpen(second, first, socket, accepted)}`;
      });
      ctx.connection.on('protocol_error', (error: unknown) => {
        this.recordProtocolError(error, `connection ${String(state.id)} (${client})`, repeatedOpen);
      });
      discardLateFrames(ctx.connection, (performative, channel) => {
        this.log(
          `connection ${state.id}: discarded a ${performative} on channel ${channel}, which the client had ended`,
        );
      });
    });
    // rhea ends the connection on a protocol error and, unhandled, prints it; keep it and print it.
    // Before a connection's open, rhea's event names no connection; after it, the connection's own
    // listener (registered in connection_open, which rhea asks first) names the client.
    c.on('protocol_error', (error: unknown) => {
      this.recordProtocolError(error, 'a connection not yet open');
    });
    const gone = (ctx: rhea.EventContext) => {
      const state = this.connections.get(ctx.connection);
      if (state === undefined) return;
      this.dropConnection(state);
      this.connections.delete(ctx.connection);
      this.log(`connection ${state.id} closed`);
    };
    c.on('connection_close', gone);
    c.on('disconnected', gone);
    c.on('session_close', (ctx: rhea.EventContext) => {
      const state = this.connections.get(ctx.connection);
      if (state === undefined) return;
      for (const consumer of state.consumers) {
        if (consumer.sender.session === ctx.session) {
          consumer.close();
          state.consumers.delete(consumer);
        }
      }
    });
  }

  private wireLinks(): void {
    const c = this.container;
    c.on('receiver_open', (ctx: rhea.EventContext) => {
      if (ctx.receiver !== undefined) this.onReceiverOpen(ctx.receiver, this.stateOf(ctx.connection));
    });
    c.on('sender_open', (ctx: rhea.EventContext) => {
      if (ctx.sender !== undefined) this.onSenderOpen(ctx.sender, this.stateOf(ctx.connection));
    });
    c.on('message', (ctx: rhea.EventContext) => {
      if (ctx.receiver !== undefined && ctx.delivery !== undefined)
        this.onMessage(ctx.receiver, ctx.delivery, ctx.message, this.stateOf(ctx.connection));
    });
    for (const event of ['accepted', 'released', 'modified', 'rejected'] as const) {
      c.on(event, (ctx: rhea.EventContext) => {
        this.onDisposition(event, ctx);
      });
    }
    const flow = (ctx: rhea.EventContext) => {
      const role = ctx.sender === undefined ? undefined : this.roles.get(ctx.sender);
      if (role?.kind === 'consume') role.consumer.onFlow();
    };
    c.on('sender_flow', flow);
    c.on('sendable', flow);
    c.on('sender_close', (ctx: rhea.EventContext) => {
      if (ctx.sender !== undefined) this.onLinkClosed(ctx.sender, ctx.connection);
    });
    c.on('receiver_close', (ctx: rhea.EventContext) => {
      if (ctx.receiver !== undefined) this.onLinkClosed(ctx.receiver, ctx.connection);
    });
  }

  private wireErrors(): void {
    const c = this.container;
    c.on('error', (error: unknown) => {
      this.log(`amqp error: ${error instanceof Error ? error.message : String(error)}`);
    });
    for (const event of ['sender_error', 'receiver_error', 'session_error', 'connection_error'] as const) {
      c.on(event, (ctx: rhea.EventContext) => {
        const link = ctx.sender ?? ctx.receiver;
        const error: unknown = link?.error ?? ctx.session?.error ?? ctx.connection.error;
        this.log(`${event}: ${error instanceof Error ? error.message : JSON.stringify(error)}`);
      });
    }
  }

  private dropConnection(state: ConnectionState): void {
    for (const consumer of state.consumers) consumer.close();
    state.consumers.clear();
    for (const cancel of state.parked) cancel();
    state.parked.clear();
  }

  private refuse(link: rhea.link, error: AmqpErrorShape): void {
    this.log(`refused link ${link.name}: ${error.condition} ${error.description}`);
    prepareRefusal(link);
    link.open(); // no-op unless the attach was held
    link.close(error);
  }

  private authorized(link: rhea.link, state: ConnectionState, address: string): boolean {
    if (state.grants.allows(address, Date.now())) return true;
    this.refuse(link, {
      condition: conditions.unauthorized,
      description: `Unauthorized access to '${address}': put a valid SAS token on $cbs for this entity before attaching.`,
    });
    return false;
  }

  // ---- client senders (our receivers) ----------------------------------------------------------

  private onReceiverOpen(receiver: rhea.Receiver, state: ConnectionState): void {
    const address = optionalString(remoteTarget(receiver)?.address) ?? '';
    const lower = address.toLowerCase();
    if (lower === '$cbs') {
      this.roles.set(receiver, { kind: 'cbs' });
      prepareAttach(receiver, {});
      return;
    }
    if (lower.endsWith('$management')) {
      if (!this.authorized(receiver, state, address)) return;
      this.roles.set(receiver, { kind: 'management', address: address.slice(0, -'/$management'.length) });
      prepareAttach(receiver, {});
      return;
    }
    if (!this.options.namespace.sendTargetExists(address)) {
      this.refuse(receiver, {
        condition: conditions.notFound,
        description: `The messaging entity '${address}' could not be found.`,
      });
      return;
    }
    if (!this.authorized(receiver, state, address)) return;
    this.roles.set(receiver, { kind: 'send', address });
    prepareAttach(receiver, { maxMessageSize: quotas.maxMessageSizeBytes });
  }

  private onMessage(receiver: rhea.Receiver, delivery: rhea.Delivery, message: unknown, state: ConnectionState): void {
    const role = this.roles.get(receiver);
    if (role === undefined) return;
    const body: unknown = message;
    if (role.kind === 'cbs') {
      this.onPutToken(receiver, delivery, body, state);
      return;
    }
    if (role.kind === 'management') {
      this.onManagementRequest(receiver, delivery, body, role.address, state);
      return;
    }
    if (role.kind !== 'send') return;
    const result = this.acceptSend(role.address, delivery, body);
    if (!delivery.remote_settled) {
      delivery.update(true, result === undefined ? outcome.accepted() : outcome.rejected(result));
    }
  }

  private acceptSend(address: string, delivery: rhea.Delivery, body: unknown): AmqpErrorShape | undefined {
    let raws: Buffer[];
    if (delivery.format === batchMessageFormat) {
      if (!Buffer.isBuffer(body))
        return { condition: conditions.invalidField, description: 'A batch transfer must carry an encoded envelope.' };
      if (body.length > quotas.maxMessageSizeBytes) {
        return {
          condition: conditions.messageSizeExceeded,
          description: `The batch (size ${body.length} bytes) exceeds the limit (${quotas.maxMessageSizeBytes} bytes).`,
        };
      }
      raws = splitBatch(body);
    } else if (isRecord(body)) {
      // The bytes as sent: re-encoding rhea's decoded message would change property types.
      raws = [rawPayloadOf(body) ?? encodeMessage(body)];
    } else {
      return { condition: conditions.invalidField, description: `Unsupported message format ${delivery.format}.` };
    }
    const parsed: ParsedMessage[] = raws.map((raw) => {
      const message = parseMessage(raw);
      return message.messageId === undefined ? withMessageId(message, randomUUID().replace(/-/g, '')) : message;
    });
    return this.options.namespace.sendAll(address, parsed);
  }

  private onPutToken(receiver: rhea.Receiver, delivery: rhea.Delivery, body: unknown, state: ConnectionState): void {
    if (!delivery.remote_settled) delivery.update(true, outcome.accepted());
    const request = isRecord(body) ? body : {};
    const props = isRecord(request.application_properties) ? request.application_properties : {};
    if (props.operation !== 'put-token') {
      this.reply(receiver, state, request, {
        'status-code': typed.int(400),
        'status-description': `Unsupported $cbs operation '${String(props.operation)}'.`,
      });
      return;
    }
    const check = verifySasToken(request.body, props.name, this.options.key, Date.now());
    if (!check.ok) {
      this.log(`put-token refused: ${check.description}`);
      this.reply(receiver, state, request, { 'status-code': typed.int(401), 'status-description': check.description });
      return;
    }
    state.grants.grant(check.audience, check.expiresAt);
    this.reply(receiver, state, request, { 'status-code': typed.int(202), 'status-description': 'Accepted' });
  }

  private onManagementRequest(
    receiver: rhea.Receiver,
    delivery: rhea.Delivery,
    body: unknown,
    address: string,
    state: ConnectionState,
  ): void {
    if (!delivery.remote_settled) delivery.update(true, outcome.accepted());
    const request = isRecord(body) ? body : {};
    const props = isRecord(request.application_properties) ? request.application_properties : {};
    const operation = optionalString(props.operation) ?? '';
    let result;
    try {
      result = handleManagement(this.options.namespace, address, operation, request.body);
    } catch (error) {
      result = {
        statusCode: 500,
        errorCondition: conditions.internal,
        description: error instanceof Error ? error.message : String(error),
      };
    }
    // The .NET client casts statusCode to int and reads errorCondition as a symbol: a plain JS number
    // would go out as uint (InvalidCastException) and a string condition would be ignored.
    const applicationProperties: Record<string, unknown> = {
      statusCode: typed.int(result.statusCode),
      statusDescription: result.description,
    };
    if (result.errorCondition !== undefined) applicationProperties.errorCondition = typed.symbol(result.errorCondition);
    this.reply(receiver, state, request, applicationProperties, result.body);
  }

  private reply(
    receiver: rhea.Receiver,
    state: ConnectionState,
    request: Record<string, unknown>,
    applicationProperties: Record<string, unknown>,
    body?: Record<string, unknown>,
  ): void {
    const replyTo = optionalString(request.reply_to);
    let sender = replyTo === undefined ? undefined : state.replies.get(replyTo);
    if (sender === undefined) {
      // Fall back to the reply link on the same AMQP session.
      const found = receiver.session.find_sender(() => true);
      if (found !== undefined) sender = found;
    }
    if (sender === undefined) {
      this.log(`no reply link for ${replyTo ?? '(no reply_to)'}`);
      return;
    }
    const reply: Record<string, unknown> = { application_properties: applicationProperties, body: body ?? null };
    if (request.message_id !== undefined) reply.correlation_id = request.message_id;
    try {
      sender.send(reply as unknown as rhea.Message);
    } catch (error) {
      const description = `The emulator could not encode its reply: ${error instanceof Error ? error.message : String(error)}`;
      this.log(description);
      const failure: Record<string, unknown> = {
        application_properties: {
          statusCode: typed.int(500),
          statusDescription: description,
          errorCondition: typed.symbol(conditions.internal),
        },
        body: null,
      };
      if (request.message_id !== undefined) failure.correlation_id = request.message_id;
      sender.send(failure as unknown as rhea.Message);
    }
  }

  // ---- client receivers (our senders) ----------------------------------------------------------

  private onSenderOpen(sender: rhea.Sender, state: ConnectionState): void {
    const address = optionalString(remoteSource(sender)?.address) ?? '';
    const lower = address.toLowerCase();
    if (lower === '$cbs' || lower.endsWith('$management')) {
      const replyTo = optionalString(remoteTarget(sender)?.address);
      if (replyTo !== undefined) state.replies.set(replyTo, sender);
      this.roles.set(sender, { kind: 'reply' });
      prepareAttach(sender, {});
      return;
    }
    const entity = this.options.namespace.receivableFor(address);
    if (entity === undefined) {
      this.refuse(sender, {
        condition: conditions.notFound,
        description: `The messaging entity '${address}' could not be found.`,
      });
      return;
    }
    if (!this.authorized(sender, state, address)) return;
    const modes = remoteSettleModes(sender);
    const mode = modes.snd === 1 ? 'receiveAndDelete' : 'peekLock';
    const consumer = new LinkConsumer(sender, entity, mode, `connection ${state.id} / ${sender.name}`);
    this.roles.set(sender, { kind: 'consume', consumer });
    const filter = sessionFilter(remoteSource(sender));
    const attach = { sender, consumer, filter, state, address };
    if (entity.requiresSession) this.attachSessionReceiver(attach);
    else this.attachReceiver(attach);
  }

  /** A receiver on an entity without sessions: refused if it asks for a session. */
  private attachReceiver({ sender, consumer, filter, state, address }: ReceiverAttach): void {
    if (filter.present) {
      this.refuse(sender, {
        condition: conditions.notAllowed,
        description: `'${address}' does not have sessions enabled; create a non-session receiver.`,
      });
      return;
    }
    prepareAttach(sender, {});
    state.consumers.add(consumer);
    consumer.activate();
  }

  /** A session receiver: the named session, the next available one, or parked until one frees up. */
  private attachSessionReceiver({ sender, consumer, filter, state, address }: ReceiverAttach): void {
    if (!filter.present) {
      this.refuse(sender, {
        condition: conditions.notAllowed,
        description: `It is not possible for an entity that requires sessions ('${address}') to create a non-sessionful message receiver; accept a session instead.`,
      });
      return;
    }
    const claim = {
      consumer,
      label: consumer.label,
      onLost: () => {
        consumer.sessionLost();
      },
    };
    const result = consumer.entity.acceptSession(filter.id, claim);
    if (result === 'locked') {
      this.refuse(sender, {
        condition: conditions.sessionCannotBeLocked,
        description: `The requested session '${filter.id ?? ''}' cannot be accepted. It may be locked by another receiver.`,
      });
      return;
    }
    if (result !== 'none') {
      this.openSession(sender, consumer, result, state, address);
      return;
    }
    this.park(sender, consumer, claim, state, address);
  }

  /** Next-available with nothing free: hold the attach until a session frees up or the timeout. */
  private park(
    sender: rhea.Sender,
    consumer: LinkConsumer,
    claim: { consumer: LinkConsumer; label: string; onLost: () => void },
    state: ConnectionState,
    address: string,
  ): void {
    holdAttach(sender);
    // Answer a little before the client's own operation timeout so it sees com.microsoft:timeout.
    const requested = toTimeout(remoteProperties(sender)['com.microsoft:timeout']);
    const timeoutMs = Math.max(0, requested - Math.min(1000, requested / 10));
    // The waiter can be granted synchronously, before the timeout timer exists.
    const timeout: { timer?: Timer } = {};
    const stop = (): void => {
      timeout.timer?.cancel();
      cancelWait();
      state.parked.delete(stop);
      this.roles.delete(sender);
    };
    const cancelWait = consumer.entity.waitForSession({
      owner: claim,
      granted: (session) => {
        stop();
        this.openSession(sender, consumer, session, state, address);
      },
      cancelled: () => {
        stop();
      },
    });
    if (consumer.session !== undefined) return;
    state.parked.add(stop);
    this.roles.set(sender, { kind: 'parked', cancel: stop });
    timeout.timer = this.options.clock.setTimer(timeoutMs, () => {
      stop();
      this.log(`no session became available on ${address} within ${timeoutMs} ms`);
      this.refuse(sender, {
        condition: conditions.timeout,
        description: `No unlocked session with messages became available on '${address}' within ${timeoutMs} ms.`,
      });
    });
  }

  private openSession(
    sender: rhea.Sender,
    consumer: LinkConsumer,
    session: SessionState,
    state: ConnectionState,
    address: string,
  ): void {
    consumer.session = session;
    const until = session.owner?.lockedUntil ?? this.options.clock.now();
    this.roles.set(sender, { kind: 'consume', consumer });
    prepareAttach(sender, {
      source: { address, filter: { [sessionFilterKey]: session.id } },
      properties: { 'com.microsoft:locked-until-utc': ticksLong(until) },
    });
    sender.open();
    state.consumers.add(consumer);
    consumer.activate();
    this.log(`session "${session.id}" on ${address} locked by ${consumer.label}`);
  }

  private onDisposition(event: DispositionEvent, ctx: rhea.EventContext): void {
    const sender = ctx.sender;
    const delivery = ctx.delivery;
    if (sender === undefined || delivery === undefined) return;
    const role = this.roles.get(sender);
    if (role?.kind === 'consume') role.consumer.onDisposition(event, delivery);
    else if (!delivery.remote_settled) delivery.update(true, undefined);
  }

  private onLinkClosed(link: rhea.link, connection: rhea.Connection): void {
    const role = this.roles.get(link);
    const state = this.connections.get(connection);
    if (role?.kind === 'consume') {
      role.consumer.close();
      state?.consumers.delete(role.consumer);
    } else if (role?.kind === 'parked') {
      // The client gave up before a session freed up. Answering with attach + detach makes rhea
      // clients re-attach, so forget the link silently, as the service does.
      role.cancel();
      link.remove();
    }
    this.roles.delete(link);
  }
}

function toTimeout(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigUInt64BE(0));
  return defaultAcceptTimeoutMs;
}

/** A receiver link being attached: the link, its consumer, the session it asks for, where it is going. */
interface ReceiverAttach {
  sender: rhea.Sender;
  consumer: LinkConsumer;
  filter: SessionFilter;
  state: ConnectionState;
  address: string;
}

/** The session filter of a receiver's source: absent, a session id, or present without one (next available). */
type SessionFilter = { present: false } | { present: true; id: string | undefined };

/** A session receiver names a session in its source filter, or sends the key with null for "any". */
function sessionFilter(source: Record<string, unknown> | undefined): SessionFilter {
  const filter = source?.filter;
  if (!isRecord(filter) || !(sessionFilterKey in filter)) return { present: false };
  const value: unknown = filter[sessionFilterKey];
  if (typeof value === 'string') return { present: true, id: value };
  if (isRecord(value) && typeof value.value === 'string') return { present: true, id: value.value };
  return { present: true, id: undefined };
}

/** Who a connection's client is, for a line about it: its container id and its end of the socket. */
function describeClient(connection: rhea.Connection): string {
  const socket = socketOf(connection);
  const address =
    socket?.remoteAddress === undefined ? 'unknown address' : `${socket.remoteAddress}:${String(socket.remotePort)}`;
  return `client container ${connection.container_id}, ${address}`;
}

/** The client library an open names in its properties (the Azure SDKs send product, version, user-agent). */
function clientLibrary(open: OpenFields): string {
  const { product, version } = open.properties;
  const userAgent = open.properties['user-agent'];
  const named = [product, version].filter((part) => typeof part === 'string').join(' ');
  const agent = typeof userAgent === 'string' ? ` (${userAgent})` : '';
  return named === '' && agent === '' ? 'a client that names no product' : `${named}${agent}`.trim();
}

/**
 * A second open on one socket: who sent it, and when. The Azure SDK sent one when it reopened a
 * connection whose socket was still closing (docs/emulator.md, "Open already received").
 */
function describeRepeatedOpen(
  second: OpenFields,
  first: OpenFields,
  socket: Socket | undefined,
  acceptedAt: number | undefined,
): string {
  const origin =
    second.containerId === first.containerId ? 'as the first did' : `where the first named ${first.containerId}`;
  const when = acceptedAt === undefined ? '' : `, ${String(Date.now() - acceptedAt)} ms after the socket was accepted`;
  const read = socket === undefined ? '' : `, ${String(socket.bytesRead)} bytes read`;
  return `its second open named client container ${second.containerId} (${origin}), from ${clientLibrary(second)}${when}${read}`;
}
