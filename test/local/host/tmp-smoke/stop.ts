import { ServiceBusClient } from '@azure/service-bus';
import { startEmulator } from '/work/main/local/emulator';
const queue = (name: string, session: boolean) => ({ Name: name, Properties: { RequiresSession: session } });
async function main() {
  const emulator = await startEmulator({ config: { UserConfig: { Namespaces: [{ Name: 'sbemulatorns', Queues: [queue('s', true), queue('p', false)], Topics: [] }], Logging: { Type: 'Console' } } } });
  const client = new ServiceBusClient(emulator.connectionString);
  const ac = new AbortController();
  const t = Date.now();
  const p = client.acceptNextSession('s', { abortSignal: ac.signal }).then(() => 'accepted', (e) => `rejected ${e.code} ${e.message}`);
  setTimeout(() => ac.abort(), 300);
  console.log(await Promise.race([p, new Promise((r) => setTimeout(() => r('still pending after 3s'), 3000))]), Date.now() - t);
  const r = client.createReceiver('p');
  const sub = r.subscribe({ processMessage: async () => {}, processError: async (a) => console.log('err', a.error.message) });
  await new Promise((res) => setTimeout(res, 300));
  const t2 = Date.now();
  await Promise.race([sub.close(), new Promise((r) => setTimeout(() => r('sub close pending'), 3000))]);
  console.log('sub closed', Date.now() - t2);
  const t3 = Date.now();
  await Promise.race([client.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('client close pending'), 5000))]).then(console.log);
  console.log('client closed', Date.now() - t3);
  await emulator.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
