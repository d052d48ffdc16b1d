import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * Import cycles among TypeScript files, found by resolving every import, `export ... from`,
 * `import type` and `require` the way the compiler does (tsconfig paths, workspace packages through
 * their `exports`). Type-only imports count: a cycle of types still ties the rooms in a knot.
 * Run `node --import tsx test/support/importCycles.ts [dir ...]` to print them.
 */

function tsFiles(path: string): string[] {
  if (statSync(path).isFile()) return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) =>
    entry.name === 'node_modules' || entry.name === 'dist' ? [] : tsFiles(join(path, entry.name)),
  );
}

function compilerOptionsOf(root: string): ts.CompilerOptions {
  const configPath = join(root, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  if (config.error !== undefined)
    throw new Error(`Cannot read ${configPath}: ${ts.flattenDiagnosticMessageText(config.error.messageText, '\n')}`);
  return ts.parseJsonConfigFileContent(config.config, ts.sys, root).options;
}

/** Each file's imports that resolve to another file of the set (node_modules and lib files left out). */
export function importGraph(root: string, dirs: readonly string[]): Map<string, string[]> {
  const options = compilerOptionsOf(root);
  const files = new Set(dirs.flatMap((dir) => tsFiles(resolve(root, dir))).map((f) => resolve(f)));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles.flatMap(({ fileName }) => {
      const resolved = ts.resolveModuleName(fileName, file, options, ts.sys).resolvedModule?.resolvedFileName;
      return resolved !== undefined && files.has(resolve(resolved)) ? [resolve(resolved)] : [];
    });
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Every cycle, one per strongly connected component (Tarjan), as `a -> b -> ... -> a` from root. */
export function findImportCycles(root: string, dirs: readonly string[]): string[] {
  const graph = importGraph(root, dirs);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file) ?? 0);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file) ?? 0, index.get(next) ?? 0));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      onStack.delete(top);
      component.push(top);
      if (top === file) break;
    }
    if (component.length > 1 || (graph.get(file) ?? []).includes(file)) components.push(component);
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);
  return components.map((component) =>
    cyclePath(graph, component)
      .map((f) => relative(root, f))
      .join(' -> '),
  );
}

/** One concrete loop through a strongly connected component: from its first file back to it. */
function cyclePath(graph: Map<string, string[]>, component: readonly string[]): string[] {
  const members = new Set(component);
  const start = [...component].sort()[0] ?? '';
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const next of graph.get(file) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [start];
        for (let at: string | undefined = file; at !== undefined && at !== start; at = cameFrom.get(at))
          path.splice(1, 0, at);
        return [...path, start];
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, file);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

if (require.main === module) {
  const root = resolve(__dirname, '..', '..');
  const dirs = process.argv.slice(2);
  const cycles = findImportCycles(root, dirs.length > 0 ? dirs : ['src', 'packages', 'test/harness', 'bench']);
  for (const cycle of cycles) console.log(cycle);
  console.log(`${String(cycles.length)} import cycle(s)`);
  process.exitCode = cycles.length === 0 ? 0 : 1;
}
