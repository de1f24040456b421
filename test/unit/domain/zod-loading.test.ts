import { describe, expect, it } from 'vitest';
import { createInstanceSchema } from '../../../shared/domain/schemas.ts';
import { parseInput } from '../../../shared/domain/validate.ts';
import { z } from '../../../shared/domain/zod.ts';

// One process per test file: nothing here has loaded zod before these run, in this order.
describe('zod, loaded by the first validation', () => {
  it('is not there until something validates, and says so rather than failing obscurely', () => {
    expect(() => z.object({})).toThrow(/zod is not loaded yet \(z\.object\).*parseInput.*loadZod/);
  });

  it('is loaded by parseInput itself, after which schemas and builders work', async () => {
    const parsed = await parseInput(createInstanceSchema, { name: 'web 1' }, 'instance');
    expect(parsed.config.provider).toBe('LOCAL');
    expect(z.object({ a: z.string() }).parse({ a: 'x' })).toEqual({ a: 'x' });
  });
});
