// `npm run infra:build`: compile infra/main.bicep to ARM JSON and lint every .bicep file under infra/,
// failing on any warning or error. The Bicep compiler comes from NuGet (Azure.Bicep.CommandLine.linux-x64)
// through the .NET SDK, cached under .tools/ so later runs start at once. BICEP_PATH overrides it
// (e.g. the binary `az bicep install` put in ~/.azure/bin).
//
//   node scripts/bicep.mjs [--outfile <path>]     default: infra/main.compiled.json (gitignored)
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Pinned: a new compiler can add linter rules, and CI must not turn red on its own.
const BICEP_VERSION = '0.49.2';
const PACKAGE_ID = 'Azure.Bicep.CommandLine.linux-x64';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const infraDir = join(root, 'infra');
const toolsDir = join(root, '.tools');
const packagesDir = join(toolsDir, 'nuget');
const restoreDir = join(toolsDir, 'bicep-restore');

function log(message) {
  console.log(`[infra:build] ${message}`);
}

function fail(message) {
  console.error(`[infra:build] FAILED: ${message}`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
  if (result.error) fail(`${command} could not start: ${result.error.message}`);
  return { status: result.status ?? 1, output: `${result.stdout}${result.stderr}` };
}

/** The major version of the installed .NET SDK picks the target framework of the throwaway project. */
function dotnetTargetFramework(env) {
  const { status, output } = run('dotnet', ['--version'], { env });
  const major = /^(\d+)\./.exec(output.trim())?.[1];
  if (status !== 0 || major === undefined) fail(`no usable .NET SDK (dotnet --version said: ${output.trim()})`);
  return `net${major}.0`;
}

function bicepFromNuGet() {
  // NuGet lower-cases package folders in a --packages directory.
  const binary = join(packagesDir, PACKAGE_ID.toLowerCase(), BICEP_VERSION, 'tools', 'bicep');
  if (existsSync(binary)) {
    log(`Bicep ${BICEP_VERSION} from cache: ${relative(root, binary)}`);
    return binary;
  }
  // No stdin, no telemetry banner, no first-run experience: CI runs this as root with nothing attached.
  const env = {
    ...process.env,
    // dotnet keeps its first-run marker and NuGet caches under HOME; a bare CI shell may not set one.
    HOME: process.env.HOME ?? toolsDir,
    DOTNET_CLI_TELEMETRY_OPTOUT: '1',
    DOTNET_NOLOGO: '1',
    DOTNET_SKIP_FIRST_TIME_EXPERIENCE: '1',
  };
  mkdirSync(restoreDir, { recursive: true });
  // PackageDownload fetches a package without referencing it: the only way to restore a tools-only package.
  writeFileSync(
    join(restoreDir, 'bicep-restore.csproj'),
    `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>${dotnetTargetFramework(env)}</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="${PACKAGE_ID}" Version="[${BICEP_VERSION}]" />
  </ItemGroup>
</Project>
`,
  );
  log(`restoring ${PACKAGE_ID} ${BICEP_VERSION} from NuGet into ${relative(root, packagesDir)} ...`);
  const restore = run('dotnet', ['restore', join(restoreDir, 'bicep-restore.csproj'), '--packages', packagesDir], {
    env,
    cwd: restoreDir,
  });
  if (restore.status !== 0 || !existsSync(binary)) fail(`dotnet restore did not produce ${binary}:\n${restore.output}`);
  chmodSync(binary, 0o755);
  log(`Bicep ${BICEP_VERSION} restored: ${relative(root, binary)}`);
  return binary;
}

function bicepFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return bicepFiles(path);
    return entry.name.endsWith('.bicep') ? [path] : [];
  });
}

/** Lines like `infra/main.bicep(12,3) : Warning no-unused-params: ...`; Info lines are not problems. */
function problems(output) {
  return output.split('\n').filter((line) => /\) : (Warning|Error) /.test(line));
}

function parseArgs(argv) {
  let outFile = join(infraDir, 'main.compiled.json');
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--outfile' && argv[i + 1] !== undefined) {
      outFile = resolve(argv[i + 1]);
      i += 1;
    } else {
      fail(`unknown argument ${arg} (usage: node scripts/bicep.mjs [--outfile <path>])`);
    }
  }
  return { outFile };
}

const { outFile } = parseArgs(process.argv.slice(2));
const bicep = process.env.BICEP_PATH ?? bicepFromNuGet();
if (!existsSync(bicep)) fail(`BICEP_PATH=${bicep} does not exist`);

if (process.env.BICEP_PATH !== undefined) {
  const version = run(bicep, ['--version']);
  if (version.status !== 0) fail(`${bicep} --version failed:\n${version.output}`);
  log(`BICEP_PATH: ${version.output.trim()}`);
}

const found = [];
const main = join(infraDir, 'main.bicep');
const build = run(bicep, ['build', main, '--outfile', outFile], { cwd: root });
found.push(...problems(build.output));
if (build.status !== 0) fail(`bicep build exited ${build.status}:\n${build.output}`);
log(`built ${relative(root, main)} -> ${relative(root, outFile) || outFile}`);

// One lint run over every file, so a module main.bicep does not (yet) use is checked too.
const lint = run(bicep, ['lint', '--pattern', 'infra/**/*.bicep'], { cwd: root });
found.push(...problems(lint.output));
if (lint.status !== 0) fail(`bicep lint exited ${lint.status}:\n${lint.output}`);
log(`linted ${bicepFiles(infraDir).length} file(s) under infra/`);

// A module's diagnostics show up both when it is built through main.bicep and when it is linted.
const unique = [...new Set(found)];
if (unique.length > 0) fail(`${unique.length} warning(s)/error(s); the bar is zero:\n${unique.join('\n')}`);
log('0 warnings, 0 errors');
