import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ignore from 'ignore';

// What `func azure functionapp publish` would upload, judged with gitignore semantics (the syntax
// .funcignore uses) over representative paths of this repository.
const root = join(__dirname, '..', '..');
const funcignore = ignore().add(readFileSync(join(root, '.funcignore'), 'utf8'));
const deployed = (path: string): boolean => !funcignore.ignores(path);

describe('.funcignore: exactly what runs in Azure is deployed', () => {
  it('ships the host configuration, the package manifest and the compiled app', () => {
    for (const path of [
      'host.json',
      'package.json',
      'package-lock.json',
      'dist/src/index.js',
      'dist/src/functions/processOrderEvent.js',
      'dist/src/domain/convoy.js',
      'dist/src/adapters/tableOrderStore.js',
      'node_modules/@azure/functions/package.json',
    ]) {
      assert.ok(deployed(path), `${path} must be deployed`);
    }
  });

  it('leaves the local stand-ins, sources, tests, infra, tooling and local settings behind', () => {
    for (const path of [
      'packages/servicebus-emulator/src/server.ts',
      'packages/functions-host/src/host/host.ts',
      'src/functions/processOrderEvent.ts',
      'test/unit/deployment.unit.test.ts',
      'dist/test/unit/x.js',
      'packages/servicebus-emulator/test/dotnet/bin/Debug/net10.0/ConvoyEmulator.Tests.dll',
      'packages/servicebus-emulator/test/dotnet/obj/project.assets.json',
      'infra/main.bicep',
      'bench/convoy.bench.ts',
      'local.settings.json',
      '.tools/bicep',
      'README.md',
      'dist/src/index.js.map',
    ]) {
      assert.ok(!deployed(path), `${path} must not be deployed`);
    }
  });

  it('package.json main names only compiled app files', () => {
    const manifest: unknown = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    assert.ok(typeof manifest === 'object' && manifest !== null && 'main' in manifest);
    assert.equal(manifest.main, 'dist/src/{index.js,functions/*.js}');
    assert.ok(deployed('dist/src/functions/any.js'));
  });
});
