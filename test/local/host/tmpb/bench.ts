import { ServiceBusClient, type ServiceBusMessage } from '@azure/service-bus';
import { startEmulator } from '../../../../local/emulator';
import { startLocalHost } from '../../../../local/host';
const S = Number(process.argv[2] ?? 200), E = 5, P = 5, C = Number(process.argv[3] ?? 16), idle = process.argv[4] ?? '00:00:00.050';
async function main() {
  const emulator = await startEmulator({ config: { UserConfig: { Namespaces: [{ Name: 'sbemulatorns', Queues: [{ Name: 'fixture-sessions', Properties: { RequiresSession: true } }, { Name: 'fixture-plain', Properties: {} }], Topics: [] }] } } });
  const client = new ServiceBusClient(emulator.connectionString);
  const msgs: ServiceBusMessage[] = [];
  for (let i = 0; i < E; i++) for (let s = 0; s < S; s++) msgs.push({ sessionId: `s${s}`, messageId: `s${s}-${i}`, body: { i, delayMs: P } });
  const sender = client.createSender('fixture-sessions');
  for (let k = 0; k < msgs.length; k += 200) await sender.sendMessages(msgs.slice(k, k + 200));
  let done = 0;
  const t0 = performance.now();
  const host = await startLocalHost({ appRoot: 'test/local/host/fixtures/app', port: 0, settings: { ServiceBusConnection: emulator.connectionString }, log: () => undefined,
    hostJson: { extensions: { serviceBus: { maxConcurrentSessions: C, sessionIdleTimeout: idle, clientRetryOptions: { tryTimeout: '00:00:02' } } } } });
  await new Promise<void>((resolve) => host.onInvocation(() => { if (++done === S * E) resolve(); }));
  const ms = performance.now() - t0;
  const ideal = Math.max(E * P, (S * E * P) / C);
  console.log(`S=${S} E=${E} P=${P} C=${C} idle=${idle}: drain ${ms.toFixed(0)} ms, ideal ${ideal.toFixed(0)} ms, ratio ${(ms / ideal).toFixed(2)}`, host.stats().serviceBus);
  await host.stop(); await client.close(); await emulator.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
