// Runs the test tiers with node's own test runner (TypeScript through tsx).
// `node scripts/run-tests.mjs [unit|int|e2e ...]`: no argument runs every tier.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const tiers = process.argv.slice(2);
const wanted = tiers.length > 0 ? tiers : ['unit', 'int', 'e2e'];
for (const tier of wanted) {
  if (!['unit', 'int', 'e2e'].includes(tier)) {
    console.error(`Unknown test tier "${tier}": use unit, int or e2e.`);
    process.exit(2);
  }
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

const files = walk('test')
  .filter((file) => wanted.some((tier) => file.endsWith(`.${tier}.test.ts`)))
  .sort();
if (files.length === 0) {
  console.error(`No test files found for ${wanted.join(', ')}.`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
