import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/domain/errors.ts';
import { findPrice } from '../../../shared/domain/catalog.ts';
import { RETIRED_SIZES, refuseRetiredSize } from '../../../shared/domain/retired-sizes.ts';

describe('retired sizes', () => {
  it.each(RETIRED_SIZES.map((s) => [s.instanceType, s.replacement] as const))('refuses %s naming %s', (retired, replacement) => {
    let caught: unknown;
    try {
      refuseRetiredSize('AZURE', retired.toLowerCase());
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).code).toBe('INSTANCE_TYPE_RETIRED');
    expect((caught as ValidationError).message).toContain(`use ${replacement} instead`);
  });

  it('names replacements the price table lists, so the advice can be followed', () => {
    for (const size of RETIRED_SIZES) expect(findPrice(size.provider, size.replacement), size.replacement).toBeDefined();
  });

  it('lets current sizes and other providers through', () => {
    expect(() => refuseRetiredSize('AZURE', 'Standard_NC4as_T4_v3')).not.toThrow();
    expect(() => refuseRetiredSize('AWS', 'Standard_NC6')).not.toThrow();
    expect(() => refuseRetiredSize('AZURE', undefined)).not.toThrow();
  });
});
