/**
 * Reference consumer for bench:processor (`--reference rhea`): sessions received straight on rhea, the
 * AMQP library under the JS SDK, with the wire steps the extension's processor takes and no more. One
 * connection and one CBS put-token for the queue; per session, as both SDKs do, an AMQP session and a
 * receiver link attached with the session filter (the next free session); credit 1 at a time
 * (prefetch 0); the null handler, then the message completed (accepted, waiting for the broker's
 * settlement); after sessionIdleTimeout without a message, detach and end, and the next session.
 * No lock renewal (a bench burst is shorter than the lock) and no reconnects: it measures what a
 * leaner receive path in Node could reach on the same emulator, not a client to run.
 */
import * as rhea from 'rhea';
import { emulatorEndpointOf, sasToken, type EmulatorEndpoint } from '../../../local/host/serviceBus/amqp/connection';
import { tuneClientSocketsForAmqp } from '../../../local/host/serviceBus/clientSockets';
import { DrainTally, readDrainSpec, requireSimpleSessionSettings, type DrainSpec } from './drainTally';

const sessionFilter = 'com.microsoft:session-filter';
const timeoutCondition = 'com.microsoft:timeout';

function endpointOf(connectionString: string): EmulatorEndpoint {
  const endpoint = emulatorEndpointOf(connectionString);
  if (endpoint === undefined)
    throw new Error('The connection string must name the emulator (UseDevelopmentEmulator=true).');
  return endpoint;
}

function once<T>(emitter: rhea.Connection | rhea.Receiver, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

async function putToken(connection: rhea.Connection, endpoint: EmulatorEndpoint, audience: string): Promise<void> {
  const replies = connection.open_receiver({ source: { address: '$cbs' }, credit_window: 1 });
  const requests = connection.open_sender({ target: { address: '$cbs' } });
  await once(replies, 'receiver_open');
  const reply = once<rhea.EventContext>(replies, 'message');
  requests.send({
    body: sasToken(endpoint, audience, Math.floor(Date.now() / 1000) + 3600),
    message_id: 'put-token-1',
    reply_to: '$cbs',
    to: '$cbs',
    application_properties: { operation: 'put-token', type: 'servicebus.windows.net:sastoken', name: audience },
  });
  const status = Number((await reply).message?.application_properties?.['status-code']);
  if (!(status >= 200 && status < 300)) throw new Error(`put-token for ${audience} answered ${String(status)}`);
}

/** The broker's attach names the accepted session in the same filter; a refused attach has no source. */
function sessionIdOf(receiver: rhea.Receiver): string | undefined {
  const id = (receiver.source as { filter?: Record<string, unknown> } | null | undefined)?.filter?.[sessionFilter];
  return typeof id === 'string' ? id : undefined;
}

/** One slot of the processor: accepts a session, drains it until idle, closes it, and starts over. */
function runSlot(connection: rhea.Connection, spec: DrainSpec, tally: DrainTally): void {
  const session = connection.create_session();
  session.begin();
  const receiver = session.attach_receiver({
    source: { address: spec.queue, filter: { [sessionFilter]: null } },
    credit_window: 0,
    autoaccept: false,
    rcv_settle_mode: 1,
  });
  let sessionId = '';
  let idle: NodeJS.Timeout | undefined;
  let closing = false;
  const waitForNext = (): void => {
    receiver.add_credit(1);
    idle = setTimeout(() => {
      closing = true;
      receiver.close();
    }, spec.serviceBus.sessionIdleTimeoutMs);
  };
  receiver.on('receiver_open', () => {
    const accepted = sessionIdOf(receiver);
    if (accepted === undefined) return; // refused: the detach that follows closes this slot's link
    sessionId = accepted;
    tally.sessionAccepted();
    waitForNext();
  });
  receiver.on('message', (context: rhea.EventContext) => {
    if (context.delivery === undefined) return;
    // Credit was still out at the idle timeout: hand the message back unhandled, as .NET does.
    if (closing) {
      context.delivery.release();
      return;
    }
    clearTimeout(idle);
    tally.handle(sessionId, context.message?.message_id);
    // rcv-settle-mode second: the delivery stays unsettled until the broker has applied the completion.
    context.delivery.accept();
  });
  receiver.on('settled', () => {
    tally.settled(sessionId);
    if (!closing) waitForNext();
  });
  receiver.on('receiver_error', () => {
    const condition = (receiver.error as { condition?: string } | undefined)?.condition;
    if (condition !== timeoutCondition) tally.error();
  });
  receiver.on('receiver_close', () => {
    clearTimeout(idle);
    session.close();
  });
  session.on('session_close', () => {
    runSlot(connection, spec, tally);
  });
}

async function main(): Promise<void> {
  const spec = readDrainSpec(process.argv.slice(2));
  requireSimpleSessionSettings(spec.serviceBus, 'The rhea reference consumer');
  tuneClientSocketsForAmqp();
  const endpoint = endpointOf(spec.connectionString);
  const connection = rhea.create_container().connect({
    host: endpoint.host,
    port: endpoint.port,
    reconnect: false,
  });
  connection.on('connection_error', () => {
    console.error(`connection error: ${JSON.stringify(connection.error)}`);
    process.exit(1);
  });
  await once(connection, 'connection_open');
  await putToken(connection, endpoint, `sb://${endpoint.host}/${spec.queue}`);
  const tally = new DrainTally(spec.events);
  for (let i = 0; i < spec.serviceBus.maxConcurrentSessions; i++) runSlot(connection, spec, tally);
  const drained = await tally.report(spec);
  process.exit(drained ? 0 : 2);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
