// ESLint rule `convoy/front-doors`: the rooms of the repository talk through front doors.
// - Outside a package, code imports it only as `@convoy/<name>` or one of the subpaths its
//   package.json `exports` declares; never a relative path into `packages/<dir>/`.
// - `src/` (what is deployed) imports no workspace package and no file outside `src/`.
// Relative specifiers are resolved against the importing file, so `../../dev-stack/src/x` from
// another package is caught as surely as `../packages/dev-stack/src/x` from test/.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** The workspace packages under root/packages: dir, name and the subpaths their exports declare. */
export function readPackages(root) {
  const packagesDir = join(root, 'packages');
  if (!existsSync(packagesDir)) return [];
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(packagesDir, entry.name, 'package.json')))
    .map((entry) => {
      const manifest = JSON.parse(readFileSync(join(packagesDir, entry.name, 'package.json'), 'utf8'));
      const exportsField = manifest.exports ?? {};
      const subpaths =
        typeof exportsField === 'string'
          ? ['.']
          : Object.keys(exportsField).filter((key) => key === '.' || key.startsWith('./'));
      return { dir: entry.name, name: manifest.name, subpaths };
    });
}

/** 'src', 'packages/<dir>' or 'other' for a path relative to the repository root. */
function roomOf(pathFromRoot) {
  const parts = pathFromRoot.split(sep);
  if (parts[0] === 'src') return 'src';
  if (parts[0] === 'packages' && parts.length > 2) return `packages/${parts[1]}`;
  return 'other';
}

function checkBare(specifier, fileRoom, packages) {
  const match = /^(@convoy\/[^/]+)(\/.*)?$/.exec(specifier);
  if (match === null) return undefined;
  if (fileRoom === 'src') return `src/ is what is deployed: it imports no workspace package ('${specifier}').`;
  const pkg = packages.find((p) => p.name === match[1]);
  if (pkg === undefined || match[2] === undefined) return undefined;
  if (pkg.subpaths.includes(`.${match[2]}`)) return undefined;
  const doors = pkg.subpaths.map((s) => `'${s === '.' ? pkg.name : pkg.name + s.slice(1)}'`).join(' or ');
  return `'${specifier}' goes past the front door of ${pkg.name}: import ${doors}.`;
}

function checkRelative(specifier, file, fileRoom, root, packages) {
  const target = relative(root, resolve(dirname(file), specifier));
  const targetRoom = roomOf(target);
  if (fileRoom === 'src' && targetRoom !== 'src')
    return `src/ is what is deployed: it imports nothing outside src/ ('${specifier}').`;
  if (targetRoom.startsWith('packages/') && targetRoom !== fileRoom) {
    const pkg = packages.find((p) => `packages/${p.dir}` === targetRoom);
    const door = pkg === undefined ? 'its package name' : `'${pkg.name}'`;
    return `'${specifier}' reaches into ${targetRoom} from outside: import ${door} (its front door) instead.`;
  }
  return undefined;
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'Rooms import each other only through front doors (docs/architecture.md).' },
    schema: [
      { type: 'object', properties: { root: { type: 'string' } }, required: ['root'], additionalProperties: false },
    ],
    messages: { frontDoor: '{{problem}}' },
  },
  create(context) {
    const root = context.options[0].root;
    const packages = readPackages(root);
    const file = context.filename;
    const fileRoom = roomOf(relative(root, file));
    const check = (node) => {
      if (node === null || node === undefined || node.type !== 'Literal' || typeof node.value !== 'string') return;
      const specifier = node.value;
      const problem = specifier.startsWith('.')
        ? checkRelative(specifier, file, fileRoom, root, packages)
        : checkBare(specifier, fileRoom, packages);
      if (problem !== undefined) context.report({ node, messageId: 'frontDoor', data: { problem } });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      TSExternalModuleReference: (node) => check(node.expression),
      CallExpression: (node) => {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require') check(node.arguments[0]);
      },
    };
  },
};

export default { rules: { 'front-doors': rule } };
