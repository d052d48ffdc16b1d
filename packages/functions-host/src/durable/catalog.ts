import type { RegisteredFunctionInfo } from '../worker/contract';

export type DurableFunctionKind = 'orchestrationTrigger' | 'activityTrigger' | 'entityTrigger';

/** The app's durable functions by trigger type. Function names are case-insensitive, as in the host. */
export class FunctionCatalog {
  /** Keyed by binding type so any registered type can be looked up; only durable kinds are filled. */
  private readonly byKind = new Map<string, Map<string, string>>();

  constructor(functions: readonly RegisteredFunctionInfo[]) {
    for (const kind of ['orchestrationTrigger', 'activityTrigger', 'entityTrigger'] as const) {
      this.byKind.set(kind, new Map());
    }
    for (const fn of functions) {
      for (const binding of Object.values(fn.bindings)) {
        const kind = this.byKind.get(binding.type);
        if (kind !== undefined && binding.direction === 'in') kind.set(fn.name.toLowerCase(), fn.name);
      }
    }
  }

  /** The registered spelling of a function of this kind, or undefined when there is none. */
  find(kind: DurableFunctionKind, name: string): string | undefined {
    return this.byKind.get(kind)?.get(name.toLowerCase());
  }

  count(kind: DurableFunctionKind): number {
    return this.byKind.get(kind)?.size ?? 0;
  }
}
