/** True when `value` is an object whose `names` are all functions: how the host checks what an app hands it. */
export function hasMethods<K extends string>(
  value: unknown,
  names: readonly K[],
): value is Record<K, (...args: unknown[]) => unknown> {
  if (typeof value !== 'object' || value === null) return false;
  return names.every((name) => typeof Reflect.get(value, name) === 'function');
}
