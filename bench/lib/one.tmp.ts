import { runScenario } from './scenario';
async function main() {
  const [s, c, idle, p] = process.argv.slice(3).map(Number); const mode = process.argv[2] === 'null' ? 'null' : 'app';
  const r = await runScenario({ mode, baskets: s ?? 200, eventsPerBasket: 5, handlerCostMs: p ?? 5, maxConcurrentSessions: c ?? 16, sessionIdleTimeoutMs: idle, timeoutMs: 300_000 });
  console.log(JSON.stringify(r, (k, v) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v), 1));
}
main().catch((e) => { console.error(e); process.exit(1); });
