import { ServiceBusClient } from '@azure/service-bus';
import { startEmulator } from '/work/main/local/emulator';
const queue = (name: string, session: boolean) => ({ Name: name, Properties: { RequiresSession: session } });
const t = Date.now();
async function main() {
  const emulator = await startEmulator({ config: { UserConfig: { Namespaces: [{ Name: 'sbemulatorns', Queues: [queue('s', true)], Topics: [] }], Logging: { Type: 'Console' } } } });
  const client = new ServiceBusClient(emulator.connectionString, { retryOptions: { timeoutInMs: 2000 } });
  void client.acceptNextSession('s').then(() => console.log('accepted'), (e) => console.log(`rejected ${e.code}`, Date.now() - t));
  await new Promise((r) => setTimeout(r, 300));
  await client.close();
  await emulator.close();
  console.log('closed all', Date.now() - t);
}
process.on('exit', () => console.log('exit at', Date.now() - t));
main().catch((e) => { console.error(e); process.exit(1); });
