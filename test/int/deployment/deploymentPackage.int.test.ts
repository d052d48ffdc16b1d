import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import ignore from 'ignore';
import { applySettings, readSettingsFile } from '@convoy/functions-host';
import { loadRegistrations, repoRoot, type Registrations } from '../../support/loadRegistrations';

/*
 * The deployment package as `func azure functionapp publish` makes it: every file .funcignore leaves
 * (gitignore syntax, judged by the `ignore` package), after `npm run build` (npm test builds first),
 * with production dependencies only (`npm ci --omit=dev` in the copy). It is then loaded as the Node
 * worker loads it (package.json `main` through the local host's loader, `@azure/functions-core`
 * provided): every function registers, and nothing outside the package — no workspace package
 * (packages/*), no local/, no dev dependency — is required.
 */

const run = promisify(execFile);

/** Paths (relative, `/`-separated) of the files .funcignore leaves, without node_modules (installed fresh). */
function deployedFiles(root: string): string[] {
  const funcignore = ignore().add(readFileSync(join(root, '.funcignore'), 'utf8'));
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name === 'node_modules' || entry.name === '.git' || funcignore.ignores(`${path}/`)) return [];
        return walk(path);
      }
      return funcignore.ignores(path) ? [] : [path];
    });
  return walk('');
}

/** Records every file a require resolves to while `load` runs (cached modules included). */
async function resolvedDuring<T>(load: () => Promise<T>): Promise<{ result: T; files: Set<string> }> {
  type Resolve = (request: string, ...rest: unknown[]) => string;
  const loader = Module as unknown as { _resolveFilename: Resolve };
  const original = loader._resolveFilename;
  const files = new Set<string>();
  loader._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
    const resolved = original.call(this, request, ...rest);
    if (resolved.includes(sep)) files.add(resolved);
    return resolved;
  };
  try {
    return { result: await load(), files };
  } finally {
    loader._resolveFilename = original;
  }
}

describe('the deployment package (what func publish uploads, production dependencies only) loads as the worker loads it', () => {
  let packageRoot = '';
  let copied: string[];
  let deployed: Registrations;
  let required: string[];

  before(async () => {
    assert.ok(
      existsSync(join(repoRoot, 'dist', 'src', 'index.js')),
      'dist/src is missing: run `npm run build` (npm test does) before this test.',
    );
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'convoy-deploy-')));
    packageRoot = root;
    copied = deployedFiles(repoRoot);
    for (const path of copied) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      copyFileSync(join(repoRoot, path), join(root, path));
    }
    await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: root,
      timeout: 300_000,
    });
    // Like the host: app settings are in the environment before the worker loads the app.
    applySettings(readSettingsFile(repoRoot).values, {});
    const load = await resolvedDuring(() => loadRegistrations(root));
    deployed = load.result;
    required = [...load.files];
  });

  after(() => {
    if (packageRoot !== '') rmSync(packageRoot, { recursive: true, force: true });
  });

  it('holds the app and its manifest, and none of the sources, stand-ins, workspace packages or tests', () => {
    for (const path of ['host.json', 'package.json', 'package-lock.json', 'dist/src/index.js']) {
      assert.ok(copied.includes(path), `${path} is deployed`);
    }
    const strays = copied.filter((path) => /^(src|local|packages|test|bench|infra|scripts|docs)\//.test(path));
    assert.deepEqual(strays, [], 'deployed, but not part of the app');
    assert.ok(!existsSync(join(packageRoot, 'node_modules', '@convoy')), 'no workspace package is installed');
  });

  it('loads one compiled file per function file of src/functions, and no other', () => {
    const sources = readdirSync(join(repoRoot, 'src', 'functions'))
      .filter((name) => name.endsWith('.ts'))
      .map((name) => `dist/src/functions/${name.replace(/\.ts$/, '.js')}`)
      .sort();
    const loaded = deployed.files.filter((file) => file.startsWith('dist/src/functions/')).sort();
    assert.deepEqual(
      loaded,
      sources,
      'package.json main loads exactly the built function files (a stale one: npm run clean && npm run build)',
    );
  });

  it('registers every function the app built from this source tree registers', async () => {
    const built = await loadRegistrations(repoRoot);
    const names = (app: Registrations) => app.functions.map((fn) => fn.metadata.name).sort();
    assert.ok(names(built).includes('processOrderEvent'), names(built).join(', '));
    assert.deepEqual(names(deployed), names(built));
    assert.ok(deployed.hooks.some((hook) => hook.name === 'appStart'));
  });

  it('requires nothing from outside the package: no workspace package, local/, or dev dependency', () => {
    const outside = required.filter((file) => relative(packageRoot, file).startsWith('..'));
    assert.deepEqual(outside, [], 'resolved outside the deployment package');
    // Dev-only is what the lockfile marks dev (rhea is a devDependency, yet @azure/core-amqp needs it too).
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, entry]) => entry.dev === true && path.startsWith('node_modules/'))
      .map(([path]) => `${sep}${path.split('/').join(sep)}${sep}`);
    const devRequired = required.filter((file) => devOnly.some((path) => file.includes(path)));
    assert.deepEqual(devRequired, [], 'dev-only packages the deployed app requires');
    assert.ok(
      required.some((file) => file.includes(`${sep}node_modules${sep}@azure${sep}functions${sep}`)),
      'the library itself was resolved inside the package (the hook saw the loads)',
    );
  });
});
