import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { findImportCycles } from '../support/importCycles';

const root = join(__dirname, '..', '..');

/** A throw-away project: a tsconfig and the given files. */
function project(files: Record<string, string>): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-cycles-'));
  const all = { 'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'Node16', strict: true } }), ...files };
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return {
    dir,
    [Symbol.dispose]: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('import cycles', () => {
  it('none among the app, the packages, the harness and the benches', () => {
    assert.deepEqual(findImportCycles(root, ['src', 'packages', 'test/harness', 'bench']), []);
  });

  it('finds a cycle through three files and one made of type imports, and names each loop', () => {
    using fixture = project({
      'src/a.ts': "import { b } from './b';\nexport const a = (): number => b() + 1;\n",
      'src/b.ts': "import { c } from './nested/c';\nexport const b = (): number => c;\n",
      'src/nested/c.ts': "export { a } from '../a';\nexport const c = 1;\n",
      'src/types.ts': "import type { Shape } from './shapes';\nexport interface Box { shape: Shape }\n",
      'src/shapes.ts': "import type { Box } from './types';\nexport interface Shape { box?: Box }\n",
      'src/leaf.ts': "import { a } from './a';\nexport const leaf = a;\n",
    });
    const cycles = findImportCycles(fixture.dir, ['src']).sort();
    assert.deepEqual(cycles, [
      'src/a.ts -> src/b.ts -> src/nested/c.ts -> src/a.ts',
      'src/shapes.ts -> src/types.ts -> src/shapes.ts',
    ]);
  });

  it('finds none once the loop is cut', () => {
    using fixture = project({
      'src/a.ts': "import { b } from './b';\nexport const a = (): number => b() + 1;\n",
      'src/b.ts': 'export const b = (): number => 1;\n',
    });
    assert.deepEqual(findImportCycles(fixture.dir, ['src']), []);
  });
});
