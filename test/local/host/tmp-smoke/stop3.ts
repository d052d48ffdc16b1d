import { ServiceBusClient } from '@azure/service-bus';
import { startEmulator } from '/work/main/local/emulator';
const queue = (name: string, session: boolean) => ({ Name: name, Properties: { RequiresSession: session } });
async function main() {
  const emulator = await startEmulator({ log: (l) => console.log('EMU', Date.now() % 100000, l), config: { UserConfig: { Namespaces: [{ Name: 'sbemulatorns', Queues: [queue('s', true), queue('p', false)], Topics: [] }], Logging: { Type: 'Console' } } } });
  const client = new ServiceBusClient(emulator.connectionString, { retryOptions: { timeoutInMs: 2000 } });
  const t = Date.now();
  const p = client.acceptNextSession('s').then(() => 'accepted', (e) => `rejected ${e.code} ${e.message}`);
  await new Promise((r) => setTimeout(r, 300));
  console.log('connections before', emulator.stats().connections);
  if (process.argv[2] === 'close') await client.close();
  await new Promise((r) => setTimeout(r, 100));
  console.log('connections after', emulator.stats().connections);
  console.log(await Promise.race([p, new Promise((r) => setTimeout(() => r('still pending after 25s'), 25000))]), Date.now() - t);
  await client.close(); await emulator.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
