/**
 * Reference consumer for bench:processor (`--reference rhea`): sessions received straight on rhea, the
 * AMQP library under the JS SDK, with the wire steps the extension's processor takes and no more. One
 * connection and one CBS put-token for the queue; per session, as both SDKs do, an AMQP session and a
 * receiver link attached with the session filter (the next free session); credit 1 at a time
 * (prefetch 0); the null handler, then the message completed (accepted, waiting for the broker's
 * settlement); after sessionIdleTimeout without a message, detach and end, and the next session.
 * The connection and put-token come from the local host's EmulatorConnection. No lock renewal (a bench
 * burst is shorter than the lock) and no reconnects: it measures what a
 * leaner receive path in Node could reach on the same emulator, not a client to run.
 */
import type * as rhea from 'rhea';
import { EmulatorConnection, emulatorEndpointOf, tuneClientSocketsForAmqp } from '@convoy/functions-host/internal';
import { DrainTally, readDrainSpec, requireSimpleSessionSettings, type DrainSpec } from './drainTally';

const sessionFilter = 'com.microsoft:session-filter';
const timeoutCondition = 'com.microsoft:timeout';

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
  const endpoint = emulatorEndpointOf(spec.connectionString);
  if (endpoint === undefined)
    throw new Error('The connection string must name the emulator (UseDevelopmentEmulator=true).');
  // The local host's connection: one AMQP connection, one put-token for the queue.
  const emulator = new EmulatorConnection(endpoint, spec.serviceBus.retry.tryTimeoutMs);
  const connection = await emulator.connectionFor(spec.queue);
  emulator.watch(connection, (error) => {
    console.error(`connection lost: ${error.message}`);
    process.exit(1);
  });
  const tally = new DrainTally(spec.events);
  for (let i = 0; i < spec.serviceBus.maxConcurrentSessions; i++) runSlot(connection, spec, tally);
  const drained = await tally.report(spec);
  process.exit(drained ? 0 : 2);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
