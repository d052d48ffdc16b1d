import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { expandBraces, expandGlob } from '../../src/host/glob';

describe('package.json main globs', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'local-host-glob-'));
    for (const file of [
      'dist/src/index.js',
      'dist/src/functions/b.js',
      'dist/src/functions/a.js',
      'dist/src/functions/a.js.map',
      'dist/src/functions/http/problem.js',
      'dist/src/domain/x.js',
    ]) {
      mkdirSync(join(root, file, '..'), { recursive: true });
      writeFileSync(join(root, file), '');
    }
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('expands nested braces in order', () => {
    assert.deepEqual(expandBraces('a/{x,y/{1,2}}.js'), ['a/x.js', 'a/y/1.js', 'a/y/2.js']);
    assert.deepEqual(expandBraces('no-braces.js'), ['no-braces.js']);
  });

  it('matches the app layout: index first, then functions sorted, not sub-folders', () => {
    assert.deepEqual(expandGlob('dist/src/{index.js,functions/*.js}', root), [
      'dist/src/index.js',
      'dist/src/functions/a.js',
      'dist/src/functions/b.js',
    ]);
  });

  it('supports ** and ? and drops duplicates', () => {
    assert.deepEqual(expandGlob('dist/**/?.js', root), [
      'dist/src/domain/x.js',
      'dist/src/functions/a.js',
      'dist/src/functions/b.js',
    ]);
    assert.deepEqual(expandGlob('{dist/src/index.js,./dist/src/index.js}', root), ['dist/src/index.js']);
  });

  it('returns nothing when nothing matches', () => {
    assert.deepEqual(expandGlob('dist/src/{main.js,functions/*.mjs}', root), []);
  });
});
