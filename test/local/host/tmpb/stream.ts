import { ServiceBusClient, type ServiceBusSessionReceiver } from '@azure/service-bus';
import { startEmulator } from '../../../../local/emulator';
import { enableNoDelayForClientSockets } from '../../../../local/host/serviceBus/noDelay';
enableNoDelayForClientSockets();
const S = 100, C = 8, mode = process.argv[2];
async function main() {
  const emulator = await startEmulator({ config: { UserConfig: { Namespaces: [{ Name: 'sbemulatorns', Queues: [{ Name: 'q', Properties: { RequiresSession: true } }], Topics: [] }] } } });
  const client = new ServiceBusClient(emulator.connectionString, { retryOptions: { timeoutInMs: 2000 } });
  const sender = client.createSender('q');
  const msgs = [];
  for (let i = 0; i < 5; i++) for (let s = 0; s < S; s++) msgs.push({ sessionId: `s${s}`, messageId: `s${s}-${i}`, body: { i } });
  for (let k = 0; k < msgs.length; k += 200) await sender.sendMessages(msgs.slice(k, k + 200));
  let remaining = S * 5; const t0 = performance.now(); let tEnd = 0;
  const handle = async (r: ServiceBusSessionReceiver, m: any) => { await new Promise((res) => setTimeout(res, 5)); await r.completeMessage(m); if (--remaining === 0) tEnd = performance.now(); };
  await Promise.all(Array.from({ length: C }, async () => {
    while (remaining > 0) {
      let r: ServiceBusSessionReceiver;
      try { r = await client.acceptNextSession('q', { skipParsingBodyAsJson: true }); } catch { continue; }
      if (mode === 'stream') {
        await new Promise<void>((resolve) => {
          let timer = setTimeout(() => resolve(), 50);
          r.subscribe({ processMessage: async (m) => { clearTimeout(timer); await handle(r, m); timer = setTimeout(() => resolve(), 50); }, processError: async () => {} }, { autoCompleteMessages: false, maxConcurrentCalls: 1 });
        });
      } else {
        for (;;) { const b = await r.receiveMessages(1, { maxWaitTimeInMs: 50 }); if (!b.length) break; await handle(r, b[0]); }
      }
      await r.close();
    }
  }));
  console.log(mode, 'drain', (tEnd - t0).toFixed(0), 'ms');
  await client.close(); await emulator.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
