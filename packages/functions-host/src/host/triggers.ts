import type { RegisteredFunctionInfo } from '../worker/contract';

type Binding = RegisteredFunctionInfo['bindings'][string];

export interface TriggerBinding {
  name: string;
  binding: Binding;
}

/** The trigger is the binding whose type ends in "Trigger" (the library's own rule). */
export function triggerOf(bindings: RegisteredFunctionInfo['bindings']): TriggerBinding | undefined {
  for (const [name, binding] of Object.entries(bindings)) {
    if (/trigger$/i.test(binding.type)) return { name, binding };
  }
  return undefined;
}

export const durableTriggerTypes = new Set(['orchestrationtrigger', 'activitytrigger', 'entitytrigger']);

export function isDurableClientBinding(binding: Binding): boolean {
  const type = binding.type.toLowerCase();
  return binding.direction === 'in' && (type === 'durableclient' || type === 'orchestrationclient');
}

export function usesDurable(info: RegisteredFunctionInfo): boolean {
  const trigger = triggerOf(info.bindings);
  if (trigger !== undefined && durableTriggerTypes.has(trigger.binding.type.toLowerCase())) return true;
  return Object.values(info.bindings).some(isDurableClientBinding);
}

export function stringProp(binding: Binding, key: string): string | undefined {
  const value = binding[key];
  return typeof value === 'string' ? value : undefined;
}

export function booleanProp(binding: Binding, key: string): boolean | undefined {
  const value = binding[key];
  return typeof value === 'boolean' ? value : undefined;
}

export function methodsOf(binding: Binding): string[] | undefined {
  const value = binding.methods;
  if (!Array.isArray(value) || value.length === 0) return undefined;
  return value.filter((m): m is string => typeof m === 'string').map((m) => m.toUpperCase());
}
