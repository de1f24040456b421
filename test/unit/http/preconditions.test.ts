import { describe, expect, it } from 'vitest';
import { mergeMap } from '../../../shared/domain/merge-patch.ts';
import { PreconditionFailedError, VersionConflictError } from '../../../shared/domain/errors.ts';
import { mapError } from '../../../shared/http/errors.ts';
import { etagOf, writeConditions } from '../../../shared/http/preconditions.ts';
import { requireVersion, writeWithRetry } from '../../../shared/services/preconditions.ts';

describe('If-Match as write conditions', () => {
  it.each([
    [undefined, {}],
    ['*', {}],
    ['"7"', { ifMatch: [7] }],
    ['W/"7"', { ifMatch: [7] }],
    ['"7", "9"', { ifMatch: [7, 9] }],
    ['"abc"', { ifMatch: [] }],
    ['7', { ifMatch: [] }],
  ])('%s → %j', (header, expected) => {
    expect(writeConditions(header === undefined ? {} : { 'if-match': header })).toEqual(expected);
  });

  it('round-trips the ETag it spells', () => {
    expect(writeConditions({ 'if-match': etagOf(12) })).toEqual({ ifMatch: [12] });
  });
});

describe('requireVersion and writeWithRetry', () => {
  it('maps a stale version to 412 PRECONDITION_FAILED in the one error mapping', () => {
    expect(() => requireVersion('Instance', 'i-1', 3, { ifMatch: [2] })).toThrow(PreconditionFailedError);
    expect(() => requireVersion('Instance', 'i-1', 3, { ifMatch: [3] })).not.toThrow();
    expect(() => requireVersion('Instance', 'i-1', 3, {})).not.toThrow();
    const mapped = mapError(new PreconditionFailedError('Instance', 'i-1', 3));
    expect(mapped).toMatchObject({ statusCode: 412, body: { code: 'PRECONDITION_FAILED' }, unexpected: false });
    expect(mapped.body.error).toMatch(/version 3/);
  });

  it('retries a lost race only when unconditional, and turns it into a 412 when conditional', async () => {
    let calls = 0;
    const losesOnce = async () => {
      calls += 1;
      if (calls === 1) throw new VersionConflictError('Instance', 'i-1');
      return 'written';
    };
    await expect(writeWithRetry('Instance', 'i-1', {}, losesOnce)).resolves.toBe('written');
    expect(calls).toBe(2);

    calls = 0;
    await expect(writeWithRetry('Instance', 'i-1', { ifMatch: [1] }, losesOnce)).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(calls).toBe(1);

    const alwaysLoses = async () => {
      throw new VersionConflictError('Instance', 'i-1');
    };
    await expect(writeWithRetry('Instance', 'i-1', {}, alwaysLoses, 3)).rejects.toBeInstanceOf(VersionConflictError);
  });
});

describe('mergeMap', () => {
  it('sets strings, removes nulls, keeps what is not named', () => {
    expect(mergeMap({ a: '0', b: '1', c: '2' }, { a: '1', b: null, d: '3' })).toEqual({ a: '1', c: '2', d: '3' });
    expect(mergeMap({ a: '1' }, { missing: null })).toEqual({ a: '1' });
  });
});
