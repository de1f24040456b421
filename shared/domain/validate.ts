import { loadZod, type z } from './zod.ts';
import { ValidationError } from './errors.ts';

/** Parse `input` or throw a ValidationError that lists every problem with its path. Loads zod on first use. */
export async function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'request'): Promise<z.infer<S>> {
  await loadZod();
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || undefined,
    message: issue.message,
  }));
  const first = details[0]!;
  const summary = first.path ? `${first.path}: ${first.message}` : first.message;
  throw new ValidationError(`Invalid ${what}: ${summary}${details.length > 1 ? ` (and ${details.length - 1} more)` : ''}`, details);
}
