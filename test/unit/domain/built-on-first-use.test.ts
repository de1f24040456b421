import { describe, expect, it } from 'vitest';
import { builtOnFirstUse } from '../../../shared/domain/built-on-first-use.ts';
import { loadZod, z } from '../../../shared/domain/zod.ts';
import { createInstanceSchema, pageQuerySchema } from '../../../shared/domain/schemas.ts';

// These tests use schemas directly rather than through parseInput, which would load zod itself.
await loadZod();

describe('builtOnFirstUse', () => {
  it('builds nothing until read, then builds once', () => {
    let builds = 0;
    const schema = builtOnFirstUse(() => {
      builds += 1;
      return z.object({ name: z.string() }).strict();
    });
    expect(builds).toBe(0);
    expect(schema.safeParse({ name: 'a' }).success).toBe(true);
    expect(schema.safeParse({ name: 1 }).success).toBe(false);
    expect(builds).toBe(1);
  });

  it('stands in for the schema: shape, extend, and nesting inside another schema', () => {
    const inner = builtOnFirstUse(() => z.object({ size: z.number().int().min(1) }).strict());
    expect(Object.keys(inner.shape)).toEqual(['size']);
    const extended = inner.extend({ label: z.string() });
    expect(extended.parse({ size: 2, label: 'x' })).toEqual({ size: 2, label: 'x' });
    const outer = z.object({ inner: inner.default({ size: 1 }) });
    expect(outer.parse({})).toEqual({ inner: { size: 1 } });
    const failure = outer.safeParse({ inner: { size: 0 } });
    expect(failure.success).toBe(false);
    expect(failure.error!.issues[0]!.path).toEqual(['inner', 'size']);
  });

  it("keeps Hangar's schemas' defaults, transforms and messages", () => {
    expect(pageQuerySchema.parse({ limit: '5000' }).limit).toBeLessThanOrEqual(1000);
    const created = createInstanceSchema.parse({ name: 'web 1' });
    expect(created.config.provider).toBe('LOCAL');
    const refused = createInstanceSchema.safeParse({ name: 'web', config: { provider: 'MARS' } });
    expect(refused.error!.issues[0]!.message).toBe("Unknown provider 'MARS'; expected one of LOCAL, AWS, OPENSTACK, AZURE, EXTERNAL");
  });
});
