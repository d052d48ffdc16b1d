// Runs the test tiers: unit, int and e2e with node's own test runner (TypeScript through tsx) over test/ and
// packages/*/test/, then dotnet (packages/servicebus-emulator/test/dotnet: the Azure.Messaging.ServiceBus
// conformance suite against the emulator).
// `node scripts/run-tests.mjs [unit|int|e2e|dotnet ...]`: no argument runs every tier. The last line
// sums every tier: "total: N passed, N failed".
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const allTiers = ['unit', 'int', 'e2e', 'dotnet'];
const dotnetSuite = 'packages/servicebus-emulator/test/dotnet';
const tiers = process.argv.slice(2);
const wanted = tiers.length > 0 ? tiers : allTiers;
for (const tier of wanted) {
  if (!allTiers.includes(tier)) {
    console.error(`Unknown test tier "${tier}": use ${allTiers.join(', ')}.`);
    process.exit(2);
  }
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** test/ and every packages/<name>/test/. */
function testRoots() {
  const packageTests = readdirSync('packages', { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join('packages', entry.name, 'test'))
    .filter((dir) => existsSync(dir));
  return ['test', ...packageTests];
}

/** Runs a command with its output shown as it comes, and returns its exit code and stdout text. */
function run(command, args, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
    let text = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      text += chunk.toString();
    });
    child.on('error', (error) => resolve({ status: 1, text, error }));
    child.on('close', (status) => resolve({ status: status ?? 1, text }));
  });
}

let passed = 0;
let failed = 0;
let ok = true;
const count = (text, pattern) => [...text.matchAll(pattern)].reduce((sum, m) => sum + Number(m[1]), 0);

const nodeTiers = wanted.filter((tier) => tier !== 'dotnet');
if (nodeTiers.length > 0) {
  const files = testRoots()
    .flatMap(walk)
    .filter((file) => nodeTiers.some((tier) => file.endsWith(`.${tier}.test.ts`)))
    .sort();
  if (files.length === 0) {
    console.error(`No test files found for ${nodeTiers.join(', ')}.`);
    process.exit(1);
  }
  const result = await run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files]);
  passed += count(result.text, /^ℹ pass (\d+)$/gm);
  failed += count(result.text, /^ℹ fail (\d+)$/gm);
  ok &&= result.status === 0;
}

if (wanted.includes('dotnet')) {
  const probe = spawnSync('dotnet', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    console.error(
      `The dotnet tier needs the .NET SDK 10 (\`dotnet\` on PATH) to run ${dotnetSuite}; install it, or run only the node tiers: node scripts/run-tests.mjs unit int e2e`,
    );
    process.exit(1);
  }
  const env = { ...process.env, DOTNET_NOLOGO: '1', DOTNET_CLI_TELEMETRY_OPTOUT: '1' };
  const result = await run('dotnet', ['test', dotnetSuite, '--nologo'], env);
  passed += count(result.text, /Passed:\s+(\d+),/g);
  failed += count(result.text, /Failed:\s+(\d+),/g);
  if (result.status !== 0 && !/Failed:\s+[1-9]/.test(result.text)) failed += 1; // build or restore failure
  ok &&= result.status === 0;
}

console.log(`total: ${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
