/**
 * Rough throughput of the local durable backend (not a test): `npm run bench:durable -- [N]`.
 * N fan-out orchestrations (2 sequential + 4 parallel activities each), then N orchestrations that
 * call one of 10 counter entities 3 times each. The durable fixture app of @convoy/functions-host
 * runs in the local host (its front door), so every call takes the host's invocation path.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startLocalHost } from '@convoy/functions-host';

const fixtureApp = join(__dirname, '..', 'packages', 'functions-host', 'test', 'durable', 'fixtures', 'hostApp');

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (Reflect.get(value, name) as unknown) : undefined;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? '500');
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new Error(`N must be a positive whole number, got "${process.argv[2]}"`);
  const host = await startLocalHost({ appRoot: fixtureApp, port: 0, log: () => undefined, logLevel: 'warning' });
  const client = (command: Record<string, unknown>): Promise<unknown> =>
    host.invoke('clientCommand', { json: JSON.stringify(command) });
  const count = (name: string): number => host.stats().invocations.byFunction[name] ?? 0;

  let started = performance.now();
  await Promise.all(Array.from({ length: n }, () => client({ action: 'start', name: 'sequenceAndFanOut' })));
  await host.whenDurableIdle();
  let ms = performance.now() - started;
  const completed = host.stats().durable?.orchestrations.Completed ?? 0;
  console.log(
    `fan-out: ${n} orchestrations (${completed} completed) in ${ms.toFixed(0)} ms = ${((n / ms) * 1000).toFixed(0)}/s; ` +
      `${count('sequenceAndFanOut')} orchestrator episodes, ${count('sayHello') + count('double')} activity calls`,
  );

  started = performance.now();
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      client({ action: 'start', name: 'countTo', input: { key: `k${i % 10}`, times: 3 } }),
    ),
  );
  await host.whenDurableIdle();
  ms = performance.now() - started;
  const states = await Promise.all(Array.from({ length: 10 }, (_, k) => client({ action: 'read', key: `k${k}` })));
  console.log(
    `entities: ${n} orchestrations × 5 entity operations on 10 counters in ${ms.toFixed(0)} ms = ${((n / ms) * 1000).toFixed(0)}/s; ` +
      `${count('counter')} entity batches; states ${JSON.stringify(states.map((s) => field(s, 'state')))}`,
  );
  await host.stop();
}

void main();
