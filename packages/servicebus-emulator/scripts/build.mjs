// Builds what `npm pack` ships: dist/ from src/ (JavaScript and type declarations) and the built-in
// Config.json beside it. dist/ is rebuilt from nothing, so no file of a removed module is left to pack.
import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: packageRoot, stdio: 'inherit' });
copyFileSync(
  new URL('../src/config.default.json', import.meta.url),
  new URL('../dist/config.default.json', import.meta.url),
);
