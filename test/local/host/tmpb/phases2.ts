import { ServiceBusClient } from '@azure/service-bus';
import { startEmulator } from '../../../../local/emulator';
import { enableNoDelayForClientSockets } from '../../../../local/host/serviceBus/noDelay';
enableNoDelayForClientSockets();
const S = 200, C = 16;
async function main() {
  const emulator = await startEmulator({ config: { UserConfig: { Namespaces: [{ Name: 'sbemulatorns', Queues: [{ Name: 'q', Properties: { RequiresSession: true } }], Topics: [] }] } } });
  const client = new ServiceBusClient(emulator.connectionString, { retryOptions: { timeoutInMs: 2000 } });
  const sender = client.createSender('q');
  const msgs = [];
  for (let i = 0; i < 5; i++) for (let s = 0; s < S; s++) msgs.push({ sessionId: `s${s}`, messageId: `s${s}-${i}`, body: { i } });
  for (let k = 0; k < msgs.length; k += 200) await sender.sendMessages(msgs.slice(k, k + 200));
  const sums: Record<string, number[]> = {};
  const add = (k: string, v: number) => (sums[k] ??= []).push(v);
  let remaining = S * 5;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: C }, async () => {
    while (remaining > 0) {
      let t = performance.now();
      const lap = (k: string) => { const n = performance.now(); add(k, n - t); t = n; };
      let r;
      try { r = await client.acceptNextSession('q', { skipParsingBodyAsJson: true }); } catch { lap('acceptTimeout'); continue; }
      lap('accept');
      for (;;) {
        const batch = await r.receiveMessages(1, { maxWaitTimeInMs: 50 });
        lap(batch.length ? 'recv' : 'idle');
        if (!batch.length) break;
        await new Promise((res) => setTimeout(res, 5)); lap('handler');
        await r.completeMessage(batch[0]!); remaining--;
        lap('complete');
      }
      await r.close();
      lap('close');
    }
  }));
  console.log('total', (performance.now() - t0).toFixed(0));
  for (const [k, v] of Object.entries(sums)) console.log(k.padEnd(14), 'n', v.length, 'avg', (v.reduce((a, b) => a + b, 0) / v.length).toFixed(1), 'max', Math.max(...v).toFixed(1));
  await client.close(); await emulator.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
