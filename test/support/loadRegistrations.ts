import { resolve } from 'node:path';
import { captureRegistrations, type RegisteredFunctionInfo } from '@convoy/functions-host';

/**
 * Loads the app the way the Azure Functions Node worker does, through the local host's own loader
 * (package.json `main` expanded as a glob against the repo root, `@azure/functions-core` provided by
 * a require hook, every file required, appStart hooks run), and captures what the app registers so a
 * test can assert the binding metadata the host would receive. (Outside the worker
 * `@azure/functions` drops every registration, so merely importing the files proves nothing.)
 */

export const repoRoot = resolve(__dirname, '..', '..');

export type FunctionMetadata = RegisteredFunctionInfo;

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

/** Captures the registrations of the app at `root` (fresh module instances; the caller's are untouched). */
export async function loadRegistrations(root = repoRoot): Promise<Registrations> {
  const app = await captureRegistrations(root);
  const functions = app.functions.map((fn) => ({ metadata: fn.info, callback: fn.callback }));
  return {
    ...app,
    functions,
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
