/** `z` as Hangar uses it: only the builders named in ./zod-builders.ts, so bundles stay small. */
export * as z from './zod-builders.ts';
