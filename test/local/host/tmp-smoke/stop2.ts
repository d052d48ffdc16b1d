import { ServiceBusClient } from '@azure/service-bus';
import { startEmulator } from '/work/main/local/emulator';
const queue = (name: string, session: boolean) => ({ Name: name, Properties: { RequiresSession: session } });
async function main() {
  const emulator = await startEmulator({ config: { UserConfig: { Namespaces: [{ Name: 'sbemulatorns', Queues: [queue('s', true), queue('p', false)], Topics: [] }], Logging: { Type: 'Console' } } } });
  const client = new ServiceBusClient(emulator.connectionString);
  const t = Date.now();
  const p = client.acceptNextSession('s').then(() => 'accepted', (e) => `rejected ${e.code} ${e.message}`);
  await new Promise((r) => setTimeout(r, 300));
  await client.close();
  console.log(await Promise.race([p, new Promise((r) => setTimeout(() => r('still pending after 5s'), 5000))]), Date.now() - t);
  const c2 = new ServiceBusClient(emulator.connectionString);
  await c2.createSender('p').sendMessages([{ body: 'x' }]);
  const r = c2.createReceiver('p');
  const [m] = await r.receiveMessages(1);
  console.log('messageId', m?.messageId);
  await r.completeMessage(m!).then(() => console.log('completed'), (e) => console.log('complete failed', e.message));
  await c2.close();
  await emulator.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
