import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

/**
 * The front doors as lint enforces them, with the project's own eslint.config.mjs: code in memory,
 * linted as if it stood at a real path of the repository (a real path, so the type-aware rules
 * find it in the TypeScript project). Only the front-doors rule's verdicts are read.
 */

const root = join(__dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

async function frontDoorProblems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  assert.ok(result !== undefined, `ESLint returned no result for ${filePath}`);
  const fatal = result.messages.filter((m) => m.fatal === true);
  assert.deepEqual(fatal, [], `${filePath} did not parse`);
  return result.messages.filter((m) => m.ruleId === 'convoy/front-doors').map((m) => m.message);
}

describe('front doors (lint)', { timeout: 120_000 }, () => {
  it('accepts a package imported by its name, and a subpath its exports declare', async () => {
    const code = [
      "import '@convoy/dev-stack/crashReport';",
      "import { startConvoy } from '@convoy/dev-stack';",
      'export const start = startConvoy;',
    ].join('\n');
    assert.deepEqual(await frontDoorProblems('test/e2e/convoy.e2e.test.ts', code), []);
  });

  it('refuses a deep import past the front door, naming the door', async () => {
    const code = "import { startConvoy } from '@convoy/dev-stack/src/stack';\nexport const start = startConvoy;\n";
    const problems = await frontDoorProblems('test/e2e/convoy.e2e.test.ts', code);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0] ?? '', /past the front door of @convoy\/dev-stack: import '@convoy\/dev-stack'/);
  });

  it('refuses a relative path into a package from a test, a bench and another package', async () => {
    const cases: [string, string][] = [
      ['test/harness/stack.ts', '../../packages/dev-stack/src/stack'],
      ['bench/soak.ts', '../packages/dev-stack/src/azurite'],
      ['packages/dev-stack/src/start.ts', '../../other-package/src/index'],
    ];
    for (const [file, specifier] of cases) {
      const problems = await frontDoorProblems(file, `export * from '${specifier}';\n`);
      assert.equal(problems.length, 1, `${file} importing ${specifier}: ${problems.join('\n')}`);
      assert.match(problems[0] ?? '', /reaches into packages\/[a-z-]+ from outside/);
    }
  });

  it('lets a package import its own files relatively', async () => {
    const problems = await frontDoorProblems('packages/dev-stack/src/start.ts', "export * from './stack';\n");
    assert.deepEqual(problems, []);
  });

  it('keeps src/ to itself: no workspace package, nothing outside src/', async () => {
    const file = 'src/functions/publishSessions.ts';
    const fromPackage = await frontDoorProblems(file, "export * from '@convoy/dev-stack';\n");
    assert.match(fromPackage.join('\n'), /imports no workspace package/);
    const fromTest = await frontDoorProblems(file, "export * from '../../test/harness/stack';\n");
    assert.match(fromTest.join('\n'), /imports nothing outside src\//);
    assert.deepEqual(await frontDoorProblems(file, "export * from '../domain/events';\n"), []);
  });
});
