import { createHmac, randomUUID } from 'node:crypto';
import { ServiceBusError, type ServiceBusErrorCode } from '@azure/service-bus';
import * as rhea from 'rhea';

/** Where a connection string points, when it names the local emulator (plain AMQP, SAS). */
export interface EmulatorEndpoint {
  host: string;
  port: number;
  keyName: string;
  key: string;
}

/** The emulator's connection string (UseDevelopmentEmulator=true), or undefined for anything else. */
export function emulatorEndpointOf(connectionString: string): EmulatorEndpoint | undefined {
  const parts = new Map<string, string>();
  for (const part of connectionString.split(';')) {
    const at = part.indexOf('=');
    if (at > 0) parts.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  const endpoint = parts.get('endpoint');
  const keyName = parts.get('sharedaccesskeyname');
  const key = parts.get('sharedaccesskey');
  if (parts.get('usedevelopmentemulator')?.toLowerCase() !== 'true') return undefined;
  if (endpoint === undefined || keyName === undefined || key === undefined) return undefined;
  const url = new URL(endpoint.replace(/^sb:/i, 'amqp:'));
  return { host: url.hostname, port: url.port === '' ? 5672 : Number(url.port), keyName, key };
}

const tokenLifetimeS = 3600;
/** Put a new token once less than this is left of the last one, as the SDK renews at 45 of 60 minutes. */
const renewBeforeMs = 15 * 60_000;

/** A Service Bus SAS token for `audience`, valid until `expiry` (seconds since the epoch). */
export function sasToken({ keyName, key }: EmulatorEndpoint, audience: string, expiry: number): string {
  const resource = encodeURIComponent(audience);
  const signature = createHmac('sha256', key)
    .update(`${resource}\n${String(expiry)}`)
    .digest('base64');
  return `SharedAccessSignature sr=${resource}&sig=${encodeURIComponent(signature)}&se=${String(expiry)}&skn=${keyName}`;
}

/** The SDK's ServiceBusError code for each AMQP condition the emulator sends; anything else is a communication problem. */
const codeByCondition: Record<string, ServiceBusErrorCode> = {
  'com.microsoft:timeout': 'ServiceTimeout',
  'com.microsoft:session-lock-lost': 'SessionLockLost',
  'com.microsoft:message-lock-lost': 'MessageLockLost',
  'com.microsoft:session-cannot-be-locked': 'SessionCannotBeLocked',
  'amqp:not-found': 'MessagingEntityNotFound',
  'amqp:unauthorized-access': 'UnauthorizedAccess',
};

/** A broker error as the SDK reports it: ServiceBusError with the SDK's code for the AMQP condition. */
export function brokerError(condition: string | undefined, description: string | undefined): ServiceBusError {
  const code = (condition === undefined ? undefined : codeByCondition[condition]) ?? 'ServiceCommunicationProblem';
  return new ServiceBusError(description ?? condition ?? 'The broker closed the link.', code);
}

export function connectionLost(): ServiceBusError {
  return new ServiceBusError('The connection to the emulator was lost.', 'ServiceCommunicationProblem');
}

interface ErrorShape {
  condition?: string;
  description?: string;
}

export function errorOf(value: unknown): ServiceBusError {
  const shape = (value ?? {}) as ErrorShape;
  return brokerError(shape.condition, shape.description);
}

/** A request-response pair of links ($cbs, <entity>/$management), replies matched by correlation id. */
class RequestLink {
  readonly #sender: rhea.Sender;
  readonly #receiver: rhea.Receiver;
  readonly #address: string;
  readonly #pending = new Map<string, { resolve: (m: rhea.Message) => void; reject: (e: Error) => void }>();
  readonly opened: Promise<void>;

  constructor(connection: rhea.Connection, address: string) {
    this.#address = address;
    this.#receiver = connection.open_receiver({ source: { address }, target: { address }, credit_window: 100 });
    this.#sender = connection.open_sender({ target: { address }, source: { address } });
    this.opened = Promise.all([
      new Promise((resolve) => this.#receiver.once('receiver_open', resolve)),
      new Promise((resolve) => this.#sender.once('sender_open', resolve)),
    ]).then(() => undefined);
    this.#receiver.on('message', (context: rhea.EventContext) => {
      const id = String(context.message?.correlation_id ?? '');
      const waiter = this.#pending.get(id);
      if (waiter === undefined || context.message === undefined) return;
      this.#pending.delete(id);
      waiter.resolve(context.message);
    });
  }

  async request(message: rhea.Message, timeoutMs: number): Promise<rhea.Message> {
    await this.opened;
    const id = randomUUID();
    return new Promise<rhea.Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ServiceBusError(`No reply on ${this.#address} within ${String(timeoutMs)} ms`, 'ServiceTimeout'));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.#sender.send({ ...message, message_id: id, reply_to: this.#address });
    });
  }

  failAll(error: Error): void {
    for (const waiter of this.#pending.values()) waiter.reject(error);
    this.#pending.clear();
  }
}

function statusOf(reply: rhea.Message): {
  code: number;
  condition: string | undefined;
  description: string | undefined;
} {
  const props: Record<string, unknown> = reply.application_properties ?? {};
  const code = Number(props['status-code'] ?? props.statusCode);
  const condition = props.errorCondition ?? props['error-condition'];
  const description = props['status-description'] ?? props.statusDescription;
  return {
    code,
    condition: typeof condition === 'string' ? condition : undefined,
    description: typeof description === 'string' ? description : undefined,
  };
}

interface ConnectionState {
  connection: rhea.Connection;
  open: Promise<void>;
  cbs: RequestLink;
  management: Map<string, RequestLink>;
  /** Audience → when its token runs out (ms). */
  claims: Map<string, number>;
  /** Called once if this connection drops: every link on it is gone. */
  watchers: Set<(error: ServiceBusError) => void>;
}

/**
 * One AMQP connection to the emulator, opened on first use and again after it drops; claims (CBS
 * put-token) per entity on it, renewed before they run out; request links for $management.
 */
/** Settles when the connection opens; rejects when it is cut first (the emulator cannot be reached). */
function opened(connection: rhea.Connection): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    connection.once('connection_open', () => {
      resolve();
    });
    connection.once('disconnected', (context: rhea.EventContext) => {
      reject(
        new ServiceBusError(
          `Cannot reach the emulator: ${context.error instanceof Error ? context.error.message : 'disconnected'}`,
          'ServiceCommunicationProblem',
        ),
      );
    });
  });
}

export class EmulatorConnection {
  readonly #endpoint: EmulatorEndpoint;
  readonly #operationTimeoutMs: number;
  #current: ConnectionState | undefined;
  #closed = false;

  constructor(endpoint: EmulatorEndpoint, operationTimeoutMs: number) {
    this.#endpoint = endpoint;
    this.#operationTimeoutMs = operationTimeoutMs;
  }

  /** Calls `onLost` if `connection` drops; the returned function stops watching. */
  watch(connection: rhea.Connection, onLost: (error: ServiceBusError) => void): () => void {
    const state = this.#current;
    if (state?.connection !== connection) {
      onLost(connectionLost());
      return () => undefined;
    }
    state.watchers.add(onLost);
    return () => state.watchers.delete(onLost);
  }

  /** The connection went (or never opened): it is forgotten, closed, and everything waiting on it fails. */
  #lose(state: ConnectionState): void {
    if (this.#current !== state) return;
    this.#current = undefined;
    const connection = state.connection;
    // Answer the broker's close (amqp:connection:forced when the emulator stops) and let the socket go.
    if (!connection.is_closed()) connection.close();
    const error = connectionLost();
    state.cbs.failAll(error);
    for (const link of state.management.values()) link.failAll(error);
    for (const onLost of state.watchers) onLost(error);
    state.watchers.clear();
  }

  async #open(): Promise<ConnectionState> {
    if (this.#closed) throw new ServiceBusError('The client is closed.', 'GeneralError');
    if (this.#current !== undefined) {
      await this.#current.open;
      return this.#current;
    }
    const connection = rhea.create_container().connect({
      host: this.#endpoint.host,
      port: this.#endpoint.port,
      reconnect: false,
    });
    const open = opened(connection);
    const state: ConnectionState = {
      connection,
      open,
      cbs: new RequestLink(connection, '$cbs'),
      management: new Map<string, RequestLink>(),
      claims: new Map<string, number>(),
      watchers: new Set(),
    };
    this.#current = state;
    const lost = (): void => {
      this.#lose(state);
    };
    connection.on('disconnected', lost);
    connection.on('connection_close', lost);
    connection.on('connection_error', lost);
    connection.on('error', () => undefined);
    try {
      await open;
    } catch (error) {
      lost(); // also closes the connection
      throw error;
    }
    return state;
  }

  /** The open connection, with a live claim for `entityPath` (the put-token answered). */
  async connectionFor(entityPath: string): Promise<rhea.Connection> {
    const state = await this.#open();
    const audience = `sb://${this.#endpoint.host}/${entityPath}`;
    const until = state.claims.get(audience) ?? 0;
    if (until - Date.now() < renewBeforeMs) {
      const expiry = Math.floor(Date.now() / 1000) + tokenLifetimeS;
      const reply = await state.cbs.request(
        {
          body: sasToken(this.#endpoint, audience, expiry),
          to: '$cbs',
          application_properties: { operation: 'put-token', type: 'servicebus.windows.net:sastoken', name: audience },
        },
        this.#operationTimeoutMs,
      );
      const status = statusOf(reply);
      if (!(status.code >= 200 && status.code < 300))
        throw brokerError(status.condition ?? 'amqp:unauthorized-access', status.description);
      state.claims.set(audience, expiry * 1000);
    }
    return state.connection;
  }

  /** A $management request on `entityPath`; the reply's body when its status is 2xx, else the broker's error. */
  async manage(entityPath: string, operation: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const connection = await this.connectionFor(entityPath);
    const state = this.#current;
    if (state?.connection !== connection) throw connectionLost();
    const address = `${entityPath}/$management`;
    let link = state.management.get(address);
    if (link === undefined) {
      link = new RequestLink(connection, address);
      state.management.set(address, link);
    }
    const reply = await link.request({ body, application_properties: { operation } }, this.#operationTimeoutMs);
    const status = statusOf(reply);
    if (!(status.code >= 200 && status.code < 300)) throw brokerError(status.condition, status.description);
    return (reply.body ?? {}) as Record<string, unknown>;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const state = this.#current;
    this.#current = undefined;
    if (state === undefined) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      state.connection.once('connection_close', () => {
        clearTimeout(timer);
        resolve();
      });
      state.connection.close();
    });
  }
}
