/** Builds a value on first call and hands out the same value after. */
export function once<T>(build: () => T): () => T {
  let built = false;
  let value: T;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value;
  };
}

/** An object whose every property is built on first read (getters, so spreads must be avoided). */
export function lazyObject<T extends object>(builders: { [K in keyof T]: () => T[K] }): T {
  const target = {} as T;
  for (const key of Object.keys(builders) as (keyof T)[]) {
    Object.defineProperty(target, key, { enumerable: true, get: builders[key] });
  }
  return target;
}

/** `lazyObject` over plain factories: each property is built once, on its first read. */
export function builtOnFirstRead<F extends Record<string, () => unknown>>(factories: F): { readonly [K in keyof F]: ReturnType<F[K]> } {
  const builders = Object.fromEntries(Object.entries(factories).map(([key, build]) => [key, once(build)]));
  return lazyObject(builders) as { readonly [K in keyof F]: ReturnType<F[K]> };
}

/** `{ ...base, ...extras }` without reading base's getters, so nothing is built early. */
export function withExtras<B extends object, E extends object>(base: B, extras: E): B & E {
  return Object.defineProperties({}, { ...Object.getOwnPropertyDescriptors(base), ...Object.getOwnPropertyDescriptors(extras) }) as B & E;
}
