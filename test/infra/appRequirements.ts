import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { settingNames } from '../../src/config';
import { isObject, objectAt, stringAt } from './armTemplate';

/**
 * What the app needs from its environment, read from the app itself rather than restated: the names
 * in src/config.ts `settingNames`, every `%SETTING%` and `connection:` in the function registrations
 * under src/, and host.json. The template must set all of them.
 */
export type ConnectionKind = 'serviceBus' | 'table' | 'hostStorage' | 'any';

export interface AppRequirements {
  /** Plain settings (a value, not a connection). */
  settings: Map<string, string>;
  /** Connection name → what it connects to, with where it was found. */
  connections: Map<string, { kind: ConnectionKind; source: string }>;
  /** Expressions the scan found but could not resolve to a name: the check reports each. */
  unresolved: string[];
}

type SettingKey = keyof typeof settingNames;

function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(settingNames, key);
}

// How src/config.ts reads each connection in identity form (`__fullyQualifiedNamespace`, `__tableServiceUri`).
const configConnectionKinds: Partial<Record<SettingKey, ConnectionKind>> = {
  serviceBusConnection: 'serviceBus',
  orderStoreConnection: 'table',
};

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(path);
      return entry.name.endsWith('.ts') ? [path] : [];
    })
    .sort();
}

/** `const NAME = 'value'` or `const NAME = settingNames.key` anywhere in src/, for `connection: NAME`. */
function constantValue(identifier: string, sources: readonly string[]): string | undefined {
  const escaped = identifier.replace(/[.$]/g, '\\$&');
  for (const text of sources) {
    const literal = new RegExp(`\\b${escaped}\\s*(?::[^=]+)?=\\s*(['"\`])([^'"\`$]+)\\1`).exec(text)?.[2];
    if (literal !== undefined) return literal;
    const key = new RegExp(`\\b${escaped}\\s*(?::[^=]+)?=\\s*settingNames\\.(\\w+)`).exec(text)?.[1];
    if (key !== undefined && isSettingKey(key)) return settingNames[key];
  }
  return undefined;
}

function addConnection(requirements: AppRequirements, name: string, kind: ConnectionKind, source: string): void {
  const known = requirements.connections.get(name);
  // A specific kind (from config.ts or host.json) beats `any` from a registration.
  if (known === undefined || known.kind === 'any') requirements.connections.set(name, { kind, source });
}

function scanSource(
  requirements: AppRequirements,
  file: string,
  text: string,
  allSources: readonly string[],
  root: string,
  scanConnections: boolean,
): void {
  const where = relative(root, file);
  for (const match of text.matchAll(/%([A-Za-z_][A-Za-z0-9_]*)%/g)) {
    if (match[1] !== undefined) requirements.settings.set(match[1], where);
  }
  for (const match of text.matchAll(/%\$\{\s*settingNames\.(\w+)\s*\}%/g)) {
    const key = match[1] ?? '';
    if (isSettingKey(key)) requirements.settings.set(settingNames[key], where);
    else requirements.unresolved.push(`${where}: %\${settingNames.${key}}% (no such key in settingNames)`);
  }
  if (!scanConnections) return;
  for (const match of text.matchAll(/\bconnection\s*:\s*([^,}\n;]+)(.?)/g)) {
    const expression = (match[1] ?? '').trim();
    // A declaration, not a use: `connection: string;`, `(connection: SomeType)`, `connection: Type = x`.
    if (match[2] === ';' || /^[\w$.]+\s*[)=]/.test(expression)) continue;
    const literal = /^(['"`])([^'"`$]+)\1$/.exec(expression)?.[2];
    const key = /^settingNames\.(\w+)$/.exec(expression)?.[1];
    const name =
      literal ??
      (key !== undefined && isSettingKey(key) ? settingNames[key] : undefined) ??
      (/^[A-Za-z_$][\w$]*$/.test(expression) ? constantValue(expression, allSources) : undefined);
    // An unresolved PascalCase word is a type annotation (`{ connection: ConnectionName, ... }` in a type).
    if (name === undefined && /^[A-Z][a-z]\w*$/.test(expression)) continue;
    if (name === undefined) requirements.unresolved.push(`${where}: connection: ${expression}`);
    else addConnection(requirements, name, 'any', where);
  }
}

function scanHostJson(requirements: AppRequirements, hostJsonPath: string): void {
  const host: unknown = JSON.parse(readFileSync(hostJsonPath, 'utf8'));
  const strings: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === 'string') strings.push(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (isObject(value)) Object.values(value).forEach(collect);
  };
  collect(host);
  for (const text of strings) {
    for (const match of text.matchAll(/%([A-Za-z_][A-Za-z0-9_]*)%/g)) {
      if (match[1] !== undefined) requirements.settings.set(match[1], 'host.json');
    }
  }
  // The host's own storage; Durable's Azure Storage provider uses it unless host.json names another.
  addConnection(requirements, 'AzureWebJobsStorage', 'hostStorage', 'Functions host');
  const provider = objectAt(objectAt(objectAt(host, 'extensions'), 'durableTask'), 'storageProvider');
  const durableConnection = stringAt(provider, 'connectionName') ?? stringAt(provider, 'connectionStringName');
  if (durableConnection !== undefined)
    addConnection(requirements, durableConnection, 'hostStorage', 'host.json durableTask');
}

export function readAppRequirements(root: string): AppRequirements {
  const requirements: AppRequirements = { settings: new Map(), connections: new Map(), unresolved: [] };
  for (const [key, name] of Object.entries(settingNames)) {
    const kind = isSettingKey(key) ? configConnectionKinds[key] : undefined;
    if (kind !== undefined) addConnection(requirements, name, kind, 'src/config.ts');
    else requirements.settings.set(name, 'src/config.ts');
  }
  const files = sourceFiles(join(root, 'src'));
  const texts = files.map((file) => readFileSync(file, 'utf8'));
  // `%SETTING%` may appear anywhere in src/; `connection:` is looked for where functions are registered.
  const functionsDir = join(root, 'src', 'functions');
  files.forEach((file, index) => {
    scanSource(requirements, file, texts[index] ?? '', texts, root, file.startsWith(functionsDir));
  });
  scanHostJson(requirements, join(root, 'host.json'));
  return requirements;
}
