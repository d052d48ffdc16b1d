import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { RegisteredFunctionInfo } from '../worker/contract';

const settingsFileSchema = z.looseObject({
  IsEncrypted: z.boolean().optional(),
  Values: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

export interface SettingsFile {
  /** The file the values came from, or undefined when neither file exists. */
  path: string | undefined;
  values: Record<string, string>;
}

/** `local.settings.json`, falling back to the checked-in `local.settings.json.example`. */
export function readSettingsFile(appRoot: string): SettingsFile {
  for (const name of ['local.settings.json', 'local.settings.json.example']) {
    const path = join(appRoot, name);
    if (!existsSync(path)) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new Error(`${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    const parsed = settingsFileSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    if (parsed.data.IsEncrypted === true)
      throw new Error(`${path} is encrypted; the local host reads plain values only.`);
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(parsed.data.Values ?? {})) values[key] = String(value);
    return { path, values };
  }
  return { path: undefined, values: {} };
}

/**
 * Puts the settings into process.env before the app loads. Like Core Tools, a variable already set
 * in the environment wins over the file; the caller's overrides win over both.
 */
export function applySettings(file: Record<string, string>, overrides: Record<string, string>): void {
  for (const [key, value] of Object.entries(file)) {
    if (process.env[key] === undefined) process.env[key] = value;
  }
  for (const [key, value] of Object.entries(overrides)) process.env[key] = value;
}

const expression = /%([^%\s]+)%/g;
const notResolved = new Set(['name', 'type', 'direction']);

export interface UnknownSetting {
  setting: string;
  functionName: string;
  property: string;
}

export type Bindings = RegisteredFunctionInfo['bindings'];

/** Resolves `%SETTING%` in binding properties (as the host does for its triggers) and reports unknown names. */
export function resolveBindingExpressions(
  bindings: Bindings,
  functionName: string,
  env: Record<string, string | undefined>,
): { bindings: Bindings; unknown: UnknownSetting[] } {
  const unknown: UnknownSetting[] = [];
  const resolved: Bindings = {};
  for (const [bindingName, binding] of Object.entries(bindings)) {
    const copy = { ...binding };
    for (const [key, value] of Object.entries(binding)) {
      if (typeof value !== 'string' || notResolved.has(key)) continue;
      copy[key] = value.replace(expression, (whole, setting: string) => {
        const found = env[setting];
        if (found === undefined) {
          unknown.push({ setting, functionName, property: `${bindingName}.${key}` });
          return whole;
        }
        return found;
      });
    }
    resolved[bindingName] = copy;
  }
  return { bindings: resolved, unknown };
}

export function describeUnknownSettings(unknown: readonly UnknownSetting[]): string {
  const names = [...new Set(unknown.map((u) => u.setting))];
  const where = unknown.map((u) => `%${u.setting}% in ${u.functionName} (${u.property})`).join(', ');
  return `Unknown app setting${names.length > 1 ? 's' : ''} ${names.join(', ')}: referenced by ${where}. Add ${names.length > 1 ? 'them' : 'it'} to local.settings.json (Values) or the environment.`;
}
