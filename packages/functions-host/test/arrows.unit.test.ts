import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

// The package's rooms and which way their imports may point: worker/ (the contract) depends on
// nothing here, durable/ on the contract only, host/ on both. No file may sit in an import cycle.
const srcRoot = join(__dirname, '..', 'src');
const mayImport: Record<string, readonly string[]> = {
  worker: ['worker'],
  durable: ['durable', 'worker'],
  host: ['host', 'durable', 'worker'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The package files `file` imports (relative specifiers resolved to .ts files; packages left out). */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles.flatMap(({ fileName }) => {
    if (!fileName.startsWith('.')) return [];
    const base = resolve(dirname(file), fileName);
    const found = [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
    if (found === undefined) throw new Error(`${relative(srcRoot, file)}: cannot resolve '${fileName}'`);
    return [found];
  });
}

function importGraph(root: string): Map<string, string[]> {
  return new Map(sourceFiles(root).map((file) => [file, importsOf(file)]));
}

/** Every import cycle, each as the files on it (depth-first search; a back edge closes a cycle). */
function cyclesOf(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string): void => {
    const onPath = path.indexOf(file);
    if (onPath >= 0) {
      cycles.push(path.slice(onPath));
      return;
    }
    if (done.has(file)) return;
    path.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    path.pop();
    done.add(file);
  };
  for (const file of graph.keys()) visit(file);
  return cycles;
}

const roomOf = (file: string): string => relative(srcRoot, file).split('/')[0] ?? '';

describe('@convoy/functions-host: rooms and arrows', () => {
  const graph = importGraph(srcRoot);

  it('has no import cycle', () => {
    const cycles = cyclesOf(graph).map((cycle) => cycle.map((file) => relative(srcRoot, file)).join(' -> '));
    assert.deepEqual(cycles, []);
  });

  it('points worker <- durable <- host, never back up', () => {
    const wrong: string[] = [];
    for (const [file, imports] of graph) {
      const allowed = mayImport[roomOf(file)];
      if (allowed === undefined) continue; // the front doors (index.ts, internal.ts) may import any room
      for (const target of imports)
        if (!allowed.includes(roomOf(target))) wrong.push(`${relative(srcRoot, file)} -> ${relative(srcRoot, target)}`);
    }
    assert.deepEqual(wrong, []);
  });

  it('finds the imports it judges (the host reaches the durable backend and the contract)', () => {
    const arrows = new Set<string>();
    for (const [file, imports] of graph) for (const target of imports) arrows.add(`${roomOf(file)}->${roomOf(target)}`);
    assert.ok(arrows.has('host->durable') && arrows.has('durable->worker') && arrows.has('host->worker'));
  });
});
