import Module from 'node:module';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';

/**
 * Loads the app the way the Azure Functions Node worker does: expand package.json `main` as a glob
 * against the repo root, make `require('@azure/functions-core')` return the worker's core API, and
 * require each file. Here the core API is a stub that captures what the app registers, so a test can
 * assert the binding metadata the host would receive. (Outside the worker `@azure/functions` drops
 * every registration, so merely importing the files proves nothing.)
 */

export const repoRoot = resolve(__dirname, '..', '..');

export interface RpcBinding {
  type: string;
  direction: string;
  [key: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  bindings: Record<string, RpcBinding>;
  [key: string]: unknown;
}

export interface CapturedFunction {
  metadata: FunctionMetadata;
  /** The callback the worker would invoke (the programming model's invocation wrapper receives it). */
  callback: unknown;
}

export interface Registrations {
  /** Files `main` expanded to, in load order, relative to the repo root. */
  files: string[];
  functions: CapturedFunction[];
  hooks: { name: string; callback: unknown }[];
  programmingModel: unknown;
  logs: { level: string; category: string; message: string }[];
  /** Metadata by function name; throws for an unknown name so a missing registration fails loudly. */
  byName(name: string): FunctionMetadata;
}

const metadataSchema = z.looseObject({
  name: z.string(),
  bindings: z.record(z.string(), z.looseObject({ type: z.string(), direction: z.string() })),
});

/** Expands `{a,b}` alternatives (nested allowed) into plain patterns. */
export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open === -1) return [pattern];
  let depth = 0;
  let close = -1;
  const commas: number[] = [];
  for (let i = open; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '{') depth++;
    else if (ch === '}') {
      depth--;
      if (depth === 0) {
        close = i;
        break;
      }
    } else if (ch === ',' && depth === 1) commas.push(i);
  }
  if (close === -1) throw new Error(`Unbalanced braces in glob "${pattern}".`);
  const bounds = [open, ...commas, close];
  const head = pattern.slice(0, open);
  const tail = pattern.slice(close + 1);
  const alternatives = bounds.slice(0, -1).map((start, i) => pattern.slice(start + 1, bounds[i + 1]));
  return alternatives.flatMap((alt) => expandBraces(head + alt + tail));
}

function segmentRegex(segment: string): RegExp {
  const escaped = segment
    .replace(/[.+^$()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${escaped}$`);
}

/** Matches one brace-free pattern (`*`, `?`, `**`) against the file tree under root. */
function matchPattern(root: string, pattern: string): string[] {
  const segments = pattern.split('/').filter((s) => s !== '' && s !== '.');
  const walk = (dir: string, index: number): string[] => {
    const segment = segments[index];
    if (segment === undefined) return statSync(dir).isFile() ? [dir] : [];
    if (segment === '**') {
      const here = walk(dir, index + 1);
      if (!statSync(dir).isDirectory()) return here;
      const deeper = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && e.name !== 'node_modules')
        .flatMap((e) => walk(join(dir, e.name), index));
      return [...here, ...deeper];
    }
    if (!/[*?]/.test(segment)) {
      const next = join(dir, segment);
      return existsSync(next) ? walk(next, index + 1) : [];
    }
    if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
    const regex = segmentRegex(segment);
    return readdirSync(dir)
      .filter((name) => regex.test(name))
      .sort()
      .flatMap((name) => walk(join(dir, name), index + 1));
  };
  return walk(root, 0);
}

/** package.json `main` → absolute file paths, like the worker; zero matches is an error, as in the worker. */
export function resolveMain(root = repoRoot): string[] {
  const pkg = z.object({ main: z.string().min(1) }).parse(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')));
  const files = [...new Set(expandBraces(pkg.main).flatMap((pattern) => matchPattern(root, pattern)))];
  if (files.length === 0) {
    throw new Error(
      `package.json main "${pkg.main}" matched no files under ${root}. Run \`npm run build\` first (it compiles src/ to dist/src).`,
    );
  }
  return files;
}

class Disposable {
  static from(...items: { dispose(): void }[]): Disposable {
    return new Disposable(() => {
      items.forEach((item) => {
        item.dispose();
      });
    });
  }
  #callback: (() => void) | undefined;
  constructor(callback: () => void) {
    this.#callback = callback;
  }
  dispose(): void {
    this.#callback?.();
    this.#callback = undefined;
  }
}

/**
 * Loads every `main` file in a fresh module cache with the capturing core API, then restores the
 * previous cache and `require`, so the caller's own module instances are untouched.
 */
export function loadRegistrations(root = repoRoot): Registrations {
  const files = resolveMain(root);
  const functions: CapturedFunction[] = [];
  const hooks: { name: string; callback: unknown }[] = [];
  const logs: { level: string; category: string; message: string }[] = [];
  let programmingModel: unknown;

  const coreApi = {
    version: '3.10.1',
    hostVersion: '4.1037.0',
    Disposable,
    registerFunction(metadata: unknown, callback: unknown): Disposable {
      functions.push({ metadata: metadataSchema.parse(metadata), callback });
      return new Disposable(() => undefined);
    },
    registerHook(name: string, callback: unknown): Disposable {
      hooks.push({ name, callback });
      return new Disposable(() => undefined);
    },
    setProgrammingModel(model: unknown): void {
      programmingModel = model;
    },
    getProgrammingModel(): unknown {
      return programmingModel;
    },
    log(level: string, category: string, message: string): void {
      logs.push({ level, category, message });
    },
  };

  const cache = require.cache;
  const saved = { ...cache };
  for (const key of Object.keys(cache)) Reflect.deleteProperty(cache, key);
  // Kept to be restored verbatim and only ever invoked with an explicit `this`.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const originalRequire = Module.prototype.require;
  const hooked = function (this: Module, id: string): unknown {
    return id === '@azure/functions-core' ? coreApi : originalRequire.call(this, id);
  };
  Module.prototype.require = Object.assign(hooked, originalRequire);
  try {
    for (const file of files) originalRequire.call(module, file);
  } finally {
    Module.prototype.require = originalRequire;
    for (const key of Object.keys(cache)) Reflect.deleteProperty(cache, key);
    Object.assign(cache, saved);
  }

  return {
    files: files.map((file) => relative(root, file).split(sep).join('/')),
    functions,
    hooks,
    programmingModel,
    logs,
    byName(name: string): FunctionMetadata {
      const found = functions.find((f) => f.metadata.name === name);
      if (found === undefined) {
        throw new Error(
          `No function "${name}" was registered; registered: ${functions.map((f) => f.metadata.name).join(', ')}.`,
        );
      }
      return found.metadata;
    },
  };
}
