import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { INSTANCE_ID_PATTERN, MAX_NAME_KEBAB_LENGTH, SUFFIX_LENGTH, defaultInstanceName, newId, newInstanceId, randomSuffix, toKebab } from '../../../shared/domain/ids.ts';

/** The shape from DESIGN.md: `{type}-{name-kebab}-{6 random [a-z0-9]}`. */
const ID_SHAPE = /^([a-z]+)-([a-z0-9]+(?:-[a-z0-9]+)*)-([a-z0-9]{6})$/;
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split('');

describe('toKebab', () => {
  it.each([
    ['Web Server', 'web-server'],
    ['  --Foo__Bar-- ', 'foo-bar'],
    ['Café', 'cafe'],
    ['!!!', ''],
    ['', ''],
    ['Web Server #2', 'web-server-2'],
    ['gpu-worker', 'gpu-worker'],
    ['GPU_Worker.v2', 'gpu-worker-v2'],
    ['Ünïcödé Nàmé', 'unicode-name'],
    ['a   b', 'a-b'],
    ['123', '123'],
  ])('%j → %j', (name, kebab) => {
    expect(toKebab(name)).toBe(kebab);
  });

  it('yields only [a-z0-9] runs joined by single dashes, never at the ends (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (name) => {
        const kebab = toKebab(name);
        expect(kebab === '' || /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(kebab)).toBe(true);
      }),
    );
  });

  it('is idempotent (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (name) => {
        const once = toKebab(name);
        expect(toKebab(once)).toBe(once);
      }),
    );
  });

  it('keeps every ascii letter and digit, lower-cased, in order (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 60 }), (name) => {
        const expectedChars = name.toLowerCase().replace(/[^a-z0-9]/g, '');
        expect(toKebab(name).replace(/-/g, '')).toBe(expectedChars);
      }),
    );
  });
});

describe('newInstanceId', () => {
  it('builds {type}-{kebab}-{suffix}', () => {
    expect(newInstanceId('vps', 'Web Server', 'abc123')).toBe('vps-web-server-abc123');
    expect(newInstanceId('gpu', 'gpu-worker', '0z9y8x')).toBe('gpu-gpu-worker-0z9y8x');
  });

  it('uses a fresh 6-character [a-z0-9] suffix when none is given', () => {
    const id = newInstanceId('vps', 'web-server');
    const match = ID_SHAPE.exec(id);
    expect(match).not.toBeNull();
    expect(match![1]).toBe('vps');
    expect(match![2]).toBe('web-server');
    expect(match![3]).toMatch(/^[a-z0-9]{6}$/);
    expect(id).toMatch(INSTANCE_ID_PATTERN);
  });

  it.each(['!!!', '', '   ', '---', '_'])('refuses the name %j, which has no letters or digits', (name) => {
    expect(() => newInstanceId('vps', name)).toThrow(RangeError);
  });

  it('matches the design shape and INSTANCE_ID_PATTERN for any name with an ascii letter or digit (property)', () => {
    const name = fc
      .tuple(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom(...ALNUM), fc.string({ unit: 'binary', maxLength: 30 }))
      .map(([before, keep, rest]) => before + keep + rest);
    fc.assert(
      fc.property(fc.constantFrom('vps', 'gpu', 'database', 'container', 'external'), name, (type, n) => {
        const id = newInstanceId(type, n);
        expect(id).toMatch(INSTANCE_ID_PATTERN);
        const match = ID_SHAPE.exec(id);
        expect(match).not.toBeNull();
        expect(match![1]).toBe(type);
        expect(match![2]).toBe(toKebab(n));
      }),
    );
  });

  it('INSTANCE_ID_PATTERN rejects ids that break the design shape', () => {
    for (const bad of [
      'vps-abc123', // no name part
      'VPS-web-server-abc123',
      'vps-web-server-abc12', // short suffix
      'vps-web-server-ABC123',
      'vps--web-server-abc123',
      'vps-web-server-abc123-',
      '-vps-web-server-abc123',
      'i-0abc1234567890def', // an EC2 id must never be taken for a public id
      '4c0d6c2e-8f0a-4d3e-9b1a-1d2e3f4a5b6c', // nor a Nova UUID
      'vps-web_server-abc123',
    ]) {
      expect(INSTANCE_ID_PATTERN.test(bad), bad).toBe(false);
    }
  });
});

describe('randomSuffix', () => {
  it(`defaults to ${SUFFIX_LENGTH} characters, which the design fixes at 6`, () => {
    expect(SUFFIX_LENGTH).toBe(6);
    expect(randomSuffix()).toHaveLength(6);
  });

  it('honours an explicit length', () => {
    for (const length of [1, 6, 12, 40]) {
      const s = randomSuffix(length);
      expect(s).toHaveLength(length);
      expect(s).toMatch(/^[a-z0-9]+$/);
    }
  });

  it('uses only [a-z0-9], has the right length, and 1000 ids are (almost) all distinct', () => {
    const suffixes = Array.from({ length: 1000 }, () => randomSuffix());
    for (const s of suffixes) expect(s).toMatch(/^[a-z0-9]{6}$/);
    // 36^6 ≈ 2.2e9 values: the chance of even one collision among 1000 is about 2e-4.
    expect(new Set(suffixes).size).toBeGreaterThanOrEqual(998);
  });

  it('spreads over the whole alphabet roughly evenly', () => {
    const counts = new Map<string, number>();
    const text = Array.from({ length: 2000 }, () => randomSuffix()).join('');
    for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    // 12 000 characters over 36 symbols: about 333 each; every symbol appears, none dominates.
    expect(counts.size).toBe(36);
    for (const [ch, n] of counts) {
      expect(n, ch).toBeGreaterThan(200);
      expect(n, ch).toBeLessThan(480);
    }
  });
});

describe('newId', () => {
  it('gives a prefix and 12 random [a-z0-9] characters, distinct each time', () => {
    const a = newId('client');
    const b = newId('client');
    expect(a).toMatch(/^client-[a-z0-9]{12}$/);
    expect(a).not.toBe(b);
  });
});

describe('defaultInstanceName: a create without a name', () => {
  it.each([
    [{ purpose: 'Medical Document Analysis', taskId: 'task-456', type: 'gpu' }, 'medical-document-analysis'],
    [{ taskId: 'task-456', type: 'gpu' }, 'task-456'],
    [{ purpose: '!!!', taskId: 'Task 7', type: 'gpu' }, 'task-7'],
    [{ type: 'database' }, 'database'],
  ])('%j → %s', (request, name) => {
    expect(defaultInstanceName(request)).toBe(name);
    expect(newInstanceId(request.type, defaultInstanceName(request))).toMatch(INSTANCE_ID_PATTERN);
  });

  it('cuts a long purpose at a word boundary so the id stays within bounds', () => {
    const name = defaultInstanceName({ purpose: 'word '.repeat(40), type: 'vps' });
    expect(name.length).toBeLessThanOrEqual(MAX_NAME_KEBAB_LENGTH);
    expect(name).toMatch(/^word(-word)*$/);
  });

  it('builds database-production-db-xxxxxx from a free-form type', () => {
    expect(newInstanceId('database', 'production-db')).toMatch(/^database-production-db-[a-z0-9]{6}$/);
    expect(newInstanceId('gpu-worker', 'x')).toMatch(INSTANCE_ID_PATTERN);
  });
});
