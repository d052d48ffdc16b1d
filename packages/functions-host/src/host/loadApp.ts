import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import {
  appHookContext,
  createRegistry,
  loadInto,
  loadIsolated,
  runHooks,
  type AppRegistry,
  type LogCategory,
  type LogLevel,
  type ProgrammingModel,
  type RegisteredFunction,
} from './coreApi';
import { expandGlob } from './glob';

const packageJsonSchema = z.looseObject({ main: z.string().min(1).optional(), type: z.string().optional() });

/** App modules a previous load brought in: re-required on the next load so registrations run again. */
const appModules = new Set<string>();

function forgetPreviousLoad(): void {
  for (const id of appModules) Reflect.deleteProperty(require.cache, id);
  appModules.clear();
}

function readPackageJson(appRoot: string): z.infer<typeof packageJsonSchema> {
  const path = join(appRoot, 'package.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return packageJsonSchema.parse(raw);
}

export function entryPointFiles(appRoot: string): string[] {
  const path = join(appRoot, 'package.json');
  const main = readPackageJson(appRoot).main;
  if (main === undefined) throw new Error(`${path} has no "main": the worker loads the app from it.`);
  const files = expandGlob(main, appRoot);
  if (files.length === 0) {
    throw new Error(
      `Found zero files matching package.json "main" (${main}) in ${appRoot}. Did you run "npm run build"?`,
    );
  }
  return files;
}

/** Requires every entry point in order (import() for ESM), as the worker's loadScriptFile does. */
async function requireEntryPoints(root: string, files: string[], registry: AppRegistry): Promise<void> {
  const isEsm = (file: string): boolean =>
    file.endsWith('.mjs') || (readPackageJson(root).type === 'module' && file.endsWith('.js'));
  const requireFromApp = createRequire(join(root, 'package.json'));
  for (const file of files) {
    const absolute = join(root, file);
    registry.log('debug', 'system', `Loading entry point file "${file}"`);
    if (isEsm(file)) await import(pathToFileURL(absolute).href);
    else requireFromApp(absolute);
  }
}

function runAppStartHooks(root: string, registry: AppRegistry): Promise<void> {
  return runHooks(registry, 'appStart', appHookContext(registry, { functionAppDirectory: root }));
}

/**
 * Loads the app as the worker does: expand `main`, require every file in order (import() for ESM),
 * then run the appStart hooks. Returns the files loaded, relative to appRoot.
 */
export async function loadApp(appRoot: string, registry: AppRegistry): Promise<string[]> {
  const root = resolve(appRoot);
  const files = entryPointFiles(root);
  forgetPreviousLoad();
  const before = new Set(Object.keys(require.cache));
  await loadInto(registry, async () => {
    try {
      await requireEntryPoints(root, files, registry);
    } finally {
      const nodeModules = `${sep}node_modules${sep}`;
      for (const id of Object.keys(require.cache)) {
        if (!before.has(id) && !id.includes(nodeModules)) appModules.add(id);
      }
    }
    await runAppStartHooks(root, registry);
  });
  return files;
}

/** What an app registered with the worker, captured without running anything else. */
export interface CapturedApp {
  /** Files `main` expanded to, in load order, relative to appRoot with `/` separators. */
  files: string[];
  functions: RegisteredFunction[];
  hooks: { name: string; callback: unknown }[];
  programmingModel: ProgrammingModel | undefined;
  logs: { level: LogLevel; category: LogCategory; message: string }[];
}

/**
 * Loads the app exactly as `loadApp` does, but with fresh module instances (see `loadIsolated`), so
 * a test process that already imported the app or the library in test mode still sees every
 * registration. CommonJS apps only.
 */
export async function captureRegistrations(appRoot: string): Promise<CapturedApp> {
  const root = resolve(appRoot);
  const files = entryPointFiles(root);
  const logs: CapturedApp['logs'] = [];
  const registry = createRegistry((level, category, message) => logs.push({ level, category, message }));
  const programmingModel = await loadIsolated(registry, async () => {
    await requireEntryPoints(root, files, registry);
    await runAppStartHooks(root, registry);
  });
  return {
    files: files.map((file) => file.split(sep).join('/')),
    functions: [...registry.functions.values()],
    hooks: [...registry.hooks].flatMap(([name, callbacks]) => callbacks.map((callback) => ({ name, callback }))),
    programmingModel,
    logs,
  };
}
