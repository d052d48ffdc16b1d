/**
 * `npm run bench:turnover [-- --sessions 200 --rounds 3]`: what one session costs the JS Service Bus
 * SDK, the client the local host runs its session triggers on. Against an emulator in its own
 * process, one session at a time: acceptNextSession, receive and complete its one message, close.
 * Prints the wall time and this process's CPU per session for each step, round by round (the later
 * rounds are warm). The local host pays accept + close once per session, receive + complete per message.
 */
import { parseArgs } from 'node:util';
import { ServiceBusClient } from '@azure/service-bus';
import { tuneClientSocketsForAmqp } from '@convoy/functions-host/internal';
import { spawnEmulator } from '../test/harness/emulatorProcess';
import { publishDirect } from '../test/harness/publishDirect';
import { orderEventsQueue } from '../test/harness/stack';

const { values } = parseArgs({
  options: { sessions: { type: 'string', default: '200' }, rounds: { type: 'string', default: '3' } },
});
const sessions = Number(values.sessions);
const rounds = Number(values.rounds);
if (!Number.isInteger(sessions) || sessions < 1)
  throw new Error(`--sessions must be a whole number ≥ 1, got "${values.sessions}"`);
if (!Number.isInteger(rounds) || rounds < 1)
  throw new Error(`--rounds must be a whole number ≥ 1, got "${values.rounds}"`);

/** CPU microseconds of this process spent in `step`. */
async function cpuOf<T>(step: () => Promise<T>): Promise<{ result: T; cpuUs: number }> {
  const before = process.cpuUsage();
  const result = await step();
  const used = process.cpuUsage(before);
  return { result, cpuUs: used.user + used.system };
}

async function main(): Promise<void> {
  // The sockets the way the local host has them (Nagle off, one writev per tick).
  tuneClientSocketsForAmqp();
  const emulator = await spawnEmulator();
  const client = new ServiceBusClient(emulator.connectionString);
  try {
    console.log(`session turnover, JS SDK: ${String(sessions)} sessions × 1 message per round, one session at a time`);
    for (let round = 1; round <= rounds; round++) {
      const ids = Array.from({ length: sessions }, (_, i) => `turnover-${String(round)}-${String(i)}`);
      await publishDirect(emulator.connectionString, ids, 1);
      const cpu = { accept: 0, receive: 0, close: 0 };
      const started = performance.now();
      for (let i = 0; i < sessions; i++) {
        const accepted = await cpuOf(() => client.acceptNextSession(orderEventsQueue));
        const receiver = accepted.result;
        const received = await cpuOf(async () => {
          const messages = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
          if (messages.length !== 1)
            throw new Error(`session ${receiver.sessionId} gave ${String(messages.length)} messages, not 1`);
          for (const message of messages) await receiver.completeMessage(message);
        });
        const closed = await cpuOf(() => receiver.close());
        cpu.accept += accepted.cpuUs;
        cpu.receive += received.cpuUs;
        cpu.close += closed.cpuUs;
      }
      const wallMs = (performance.now() - started) / sessions;
      const per = (us: number): string => `${(us / sessions / 1000).toFixed(2)} ms`;
      console.log(
        `round ${String(round)}: wall ${wallMs.toFixed(2)} ms/session; CPU per session: acceptNextSession ${per(cpu.accept)}, receive + complete ${per(cpu.receive)}, close ${per(cpu.close)}`,
      );
    }
  } finally {
    await client.close();
    await emulator.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
