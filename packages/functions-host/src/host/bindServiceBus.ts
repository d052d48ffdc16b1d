import type { ServiceBusClient } from '@azure/service-bus';
import type { RegisteredFunction } from './coreApi';
import type { HostConfig } from './hostConfig';
import type { Invocations } from './invocations';
import type { Pump } from './pump';
import { EmulatorConnection, emulatorEndpointOf } from './serviceBus/amqp/connection';
import { EmulatorSessionReceiver } from './serviceBus/amqp/sessionReceiver';
import {
  acceptWindowMs,
  createClient,
  describeConnection,
  resolveConnection,
  type ServiceBusConnection,
} from './serviceBus/client';
import type { MessageFacts } from './serviceBus/dispatch';
import { QueuePump } from './serviceBus/queuePump';
import { SessionPump } from './serviceBus/sessionPump';
import type { PumpOptions } from './serviceBus/settle';
import type { ServiceBusTrigger } from './serviceBus/targets';
import { triggerOf } from './triggers';
import type { ServiceBusStats } from './types';
import type { TypedData } from '../worker/contract';

/** CONVOY_SESSION_RECEIVER: how session triggers receive from the emulator (rhea by default; sdk as before). */
function sessionReceiver(): 'rhea' | 'sdk' {
  const value = process.env.CONVOY_SESSION_RECEIVER?.trim().toLowerCase() ?? 'rhea';
  if (value === '' || value === 'rhea') return 'rhea';
  if (value === 'sdk') return 'sdk';
  throw new Error(`CONVOY_SESSION_RECEIVER must be "rhea" or "sdk", got "${value}".`);
}

async function closeClient(client: ServiceBusClient, log: (line: string) => void): Promise<void> {
  try {
    await client.close();
  } catch (error) {
    // The SDK can throw from its lock renewer while closing; the links are closed regardless.
    log(`closing the Service Bus client reported: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * The Service Bus side of the host: one pump per serviceBusTrigger function, sharing a client per
 * connection and accept timeout, and (against the emulator) one rhea connection for session receivers.
 */
export class ServiceBusBindings {
  private readonly clients = new Map<string, ServiceBusClient>();
  private readonly emulatorConnections = new Map<string, EmulatorConnection>();

  constructor(
    private readonly config: HostConfig,
    private readonly stats: ServiceBusStats,
    private readonly run: Invocations['run'],
    private readonly log: (line: string) => void,
  ) {}

  /** A pump (not started) that dispatches `fn`'s messages. */
  bind(fn: RegisteredFunction, { target, sessions, connection }: ServiceBusTrigger): Pump {
    const resolved = resolveConnection(connection, process.env);
    const retry = this.config.serviceBus.retry;
    const timeoutMs = sessions ? Math.min(acceptWindowMs, retry.tryTimeoutMs) : retry.tryTimeoutMs;
    const triggerName = triggerOf(fn.info.bindings)?.name ?? 'serviceBusTrigger';
    const dispatch = async (
      _name: string,
      data: TypedData,
      triggerMetadata: Record<string, TypedData>,
      facts: MessageFacts,
    ): Promise<void> => {
      await this.run(fn, { inputData: [{ name: triggerName, data }], triggerMetadata }, facts);
    };
    const options: PumpOptions = {
      client: this.clientFor(resolved, timeoutMs),
      target,
      options: this.config.serviceBus,
      dispatch,
      stats: this.stats,
      log: this.log,
    };
    if (sessions) {
      const acceptSession = this.emulatorAccept(resolved, target.entity, timeoutMs);
      if (acceptSession !== undefined) options.acceptSession = acceptSession;
    }
    this.log(`${target.functionName}: ${target.entity} on ${describeConnection(resolved)} ${this.describe(sessions)}`);
    return sessions ? new SessionPump(options) : new QueuePump(options);
  }

  /** Closes the clients and connections; call once every pump has settled (pending accepts need them). */
  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((client) => closeClient(client, this.log)));
    await Promise.all([...this.emulatorConnections.values()].map((connection) => connection.close()));
  }

  private clientFor(resolved: ServiceBusConnection, timeoutMs: number): ServiceBusClient {
    const key = `${JSON.stringify(resolved)}|${timeoutMs}`;
    let client = this.clients.get(key);
    if (client === undefined) {
      client = createClient(resolved, this.config.serviceBus, timeoutMs);
      this.clients.set(key, client);
    }
    return client;
  }

  /** Against the emulator, sessions are received straight on rhea (docs/local-host.md); elsewhere the SDK's accept. */
  private emulatorAccept(
    resolved: ServiceBusConnection,
    entity: string,
    timeoutMs: number,
  ): PumpOptions['acceptSession'] | undefined {
    if (resolved.kind !== 'connectionString' || sessionReceiver() !== 'rhea') return undefined;
    const endpoint = emulatorEndpointOf(resolved.connectionString);
    if (endpoint === undefined) return undefined;
    let connection = this.emulatorConnections.get(resolved.connectionString);
    if (connection === undefined) {
      connection = new EmulatorConnection(endpoint, this.config.serviceBus.retry.tryTimeoutMs);
      this.emulatorConnections.set(resolved.connectionString, connection);
    }
    const emulator = connection;
    const acceptOptions = {
      timeoutMs,
      maxAutoLockRenewalDurationMs: this.config.serviceBus.maxAutoLockRenewalDurationMs,
    };
    return () => EmulatorSessionReceiver.acceptNext(emulator, entity, acceptOptions);
  }

  private describe(sessions: boolean): string {
    const sb = this.config.serviceBus;
    return sessions
      ? `(sessions: maxConcurrentSessions=${sb.maxConcurrentSessions}, sessionIdleTimeout=${sb.sessionIdleTimeoutMs} ms, prefetch=${sb.prefetchCount})`
      : `(maxConcurrentCalls=${sb.maxConcurrentCalls})`;
  }
}
