/**
 * Rough throughput of the local durable backend (not a test): `npm run bench:durable -- [N]`.
 * N fan-out orchestrations (2 sequential + 4 parallel activities each), then N orchestrations that
 * call one of 10 counter entities 3 times each.
 */
import { performance } from 'node:perf_hooks';
import { field, startHarness } from '../packages/functions-host/test/durable/fixtures/harness';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? '500');
  const h = await startHarness();
  const count = (name: string): number => h.host.invocations.get(name) ?? 0;

  let started = performance.now();
  await Promise.all(Array.from({ length: n }, () => h.client({ action: 'start', name: 'sequenceAndFanOut' })));
  await h.backend.whenIdle();
  let ms = performance.now() - started;
  const completed = h.backend.stats().orchestrations.Completed ?? 0;
  console.log(
    `fan-out: ${n} orchestrations (${completed} completed) in ${ms.toFixed(0)} ms = ${((n / ms) * 1000).toFixed(0)}/s; ` +
      `${count('sequenceAndFanOut')} orchestrator episodes, ${count('sayHello') + count('double')} activity calls`,
  );

  started = performance.now();
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      h.client({ action: 'start', name: 'countTo', input: { key: `k${i % 10}`, times: 3 } }),
    ),
  );
  await h.backend.whenIdle();
  ms = performance.now() - started;
  const states = await Promise.all(Array.from({ length: 10 }, (_, k) => h.client({ action: 'read', key: `k${k}` })));
  console.log(
    `entities: ${n} orchestrations × 5 entity operations on 10 counters in ${ms.toFixed(0)} ms = ${((n / ms) * 1000).toFixed(0)}/s; ` +
      `${count('counter')} entity batches; states ${JSON.stringify(states.map((s) => field(s, 'state')))}`,
  );
  await h.backend.close();
}

void main();
