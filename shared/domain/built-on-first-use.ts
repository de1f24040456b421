/**
 * A value (here: a zod schema) built the first time anything reads it, and the same value after.
 *
 * Building Hangar's request schemas costs more at a cold start than any library it loads, and
 * every function imports the route table, which names all of them. Built on first use, a function
 * builds only the schemas its requests reach: the instances function never builds the webhook
 * schemas, an automation none. The value stands in for the schema everywhere (parsing, `.shape`,
 * `.extend`, nesting in another schema, the OpenAPI generator), so callers cannot tell. It is
 * first read by a validation, which has loaded zod by then (./zod.ts, ./validate.ts).
 */
export function builtOnFirstUse<T extends object>(build: () => T): T {
  let built: T | undefined;
  const value = (): T => (built ??= build());
  // The target is never handed out; every trap reads the built value.
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(value(), key),
    set: (_, key, property) => Reflect.set(value(), key, property),
    has: (_, key) => Reflect.has(value(), key),
    ownKeys: () => Reflect.ownKeys(value()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(value(), key);
      // A proxy may not report a property its (empty) target lacks as non-configurable.
      return descriptor && { ...descriptor, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(value()),
  });
}
