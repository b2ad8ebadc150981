/**
 * A view of `target` whose method `name` is replaced by `wrap(original)`; every other property reads
 * through to the target, methods bound to it (so private fields keep working). A Proxy rather than a
 * hand-written decorator: the interfaces wrapped here (Store, ModelStepper, ToolExecutor) grow methods
 * in other folders, and a decorator listing them would silently drop the new ones.
 */
export function intercept<T extends object, K extends keyof T>(target: T, name: K, wrap: (original: T[K]) => T[K]): T {
  const original = target[name];
  if (typeof original !== 'function') throw new TypeError(`${String(name)} is not a method`);
  const replaced = wrap((original as (...args: unknown[]) => unknown).bind(target) as T[K]);
  // Bound once per method, not per call: the store is read on every request.
  const bound = new WeakMap<object, unknown>();
  return new Proxy(target, {
    get(obj, prop) {
      if (prop === name) return replaced;
      const value: unknown = Reflect.get(obj, prop, obj);
      if (typeof value !== 'function') return value;
      let fn = bound.get(value);
      if (fn === undefined) bound.set(value, (fn = (value as (...args: unknown[]) => unknown).bind(obj)));
      return fn;
    },
  });
}
