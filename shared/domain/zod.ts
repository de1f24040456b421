import type * as Builders from './zod-builders.ts';

let loaded: typeof Builders | undefined;
let loading: Promise<typeof Builders> | undefined;

/**
 * Loads zod, a chunk of its own in each Lambda bundle. Validation (`parseInput`) awaits it, so a
 * function that never validates a request (the automations, the stream router, the deliverer)
 * never parses zod, and an API function parses it with its first request that carries a query or
 * a body. Code that uses a schema directly, without parseInput (tests, the OpenAPI document),
 * awaits it first.
 */
export function loadZod(): Promise<typeof Builders> {
  return (loading ??= import('./zod-builders.ts').then((builders) => (loaded = builders)));
}

/**
 * `z` as Hangar uses it: zod's builders (only those named in ./zod-builders.ts, so bundles stay
 * small), read from the loaded module. Schemas are built on first use (./built-on-first-use.ts),
 * by which time whatever validates has awaited `loadZod()`; reading a builder before that is a
 * programming error and says so.
 */
export const z: typeof Builders = new Proxy({} as typeof Builders, {
  get: (_, name) => {
    if (!loaded) throw new Error(`zod is not loaded yet (z.${String(name)}): validate through parseInput, or await loadZod() first`);
    return loaded[name as keyof typeof Builders];
  },
});

/** The types that go with `z`: `z.infer<typeof schema>`, `z.ZodType`, `z.ZodObject`. */
export declare namespace z {
  export type infer<T extends Builders.ZodType> = Builders.infer<T>;
  export type ZodType<Output = unknown, Input = unknown> = Builders.ZodType<Output, Input>;
  export type ZodObject = Builders.ZodObject;
}
