import { ServiceBusClient } from '@azure/service-bus';
import { startEmulator } from '../../../../local/emulator';
async function main() {
  const emulator = await startEmulator({ config: { UserConfig: { Namespaces: [{ Name: 'sbemulatorns', Queues: [{ Name: 'q', Properties: { RequiresSession: true } }], Topics: [] }] } } });
  const client = new ServiceBusClient(emulator.connectionString, { retryOptions: { timeoutInMs: 2000 } });
  const sender = client.createSender('q');
  const msgs = [];
  for (let s = 0; s < 16; s++) msgs.push({ sessionId: `s${s}`, messageId: `s${s}`, body: { s } });
  await sender.sendMessages(msgs);
  const t0 = performance.now();
  const named = await Promise.all([0,1,2,3].map(async (s) => { const r = await client.acceptSession('q', `s${s}`); const d = performance.now() - t0; await r.close(); return d.toFixed(0); }));
  console.log('named parallel x4 done at', named.join(','));
  const t1 = performance.now();
  const next = await Promise.all([0,1,2,3,4,5,6,7].map(async () => { const r = await client.acceptNextSession('q'); const d = performance.now() - t1; return [r, d.toFixed(0)] as const; }));
  console.log('next parallel x8 done at', next.map((x) => x[1]).join(','));
  for (const [r] of next) await r.close();
  const t2 = performance.now();
  const r = await client.acceptNextSession('q'); console.log('single next', (performance.now() - t2).toFixed(1)); await r.close();
  const t3 = performance.now();
  const r2 = await client.acceptSession('q', 's13'); console.log('single named', (performance.now() - t3).toFixed(1)); await r2.close();
  const t4 = performance.now();
  const rr = client.createReceiver('q2x'); 
  await client.close(); await emulator.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
