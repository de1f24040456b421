/**
 * Zod's builders by name, used as `z.object(…)` through `import { z } from './zod.ts'`. Zod's
 * own `z` namespace object carries every locale (about 260 KB minified) into every bundle that
 * touches a schema; named exports let esbuild keep only the builders Hangar uses.
 */
export {
  array,
  boolean,
  coerce,
  email,
  enum,
  literal,
  number,
  union,
  object,
  record,
  string,
  unknown,
  url,
  type infer,
  type ZodObject,
  type ZodType,
} from 'zod';
