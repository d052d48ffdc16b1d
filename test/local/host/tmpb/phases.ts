import { ServiceBusClient } from '@azure/service-bus';
import { startEmulator } from '../../../../local/emulator';
async function main() {
  const emulator = await startEmulator({ config: { UserConfig: { Namespaces: [{ Name: 'sbemulatorns', Queues: [{ Name: 'q', Properties: { RequiresSession: true } }], Topics: [] }] } } });
  const client = new ServiceBusClient(emulator.connectionString, { retryOptions: { timeoutInMs: 2000 } });
  const sender = client.createSender('q');
  const msgs = [];
  for (let s = 0; s < 5; s++) for (let i = 0; i < 5; i++) msgs.push({ sessionId: `s${s}`, messageId: `s${s}-${i}`, body: { i } });
  await sender.sendMessages(msgs);
  for (let s = 0; s < 5; s++) {
    let t = performance.now();
    const lap = (label: string) => { const n = performance.now(); const d = (n - t).toFixed(1); t = n; return `${label}=${d}`; };
    const out: string[] = [];
    const r = await client.acceptNextSession('q', { skipParsingBodyAsJson: true });
    out.push(lap('accept'));
    for (;;) {
      const batch = await r.receiveMessages(1, { maxWaitTimeInMs: 50 });
      out.push(lap(batch.length ? 'recv' : 'idle'));
      if (!batch.length) break;
      await r.completeMessage(batch[0]!);
      out.push(lap('complete'));
    }
    await r.close();
    out.push(lap('close'));
    console.log(r.sessionId, out.join(' '));
  }
  await client.close(); await emulator.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
