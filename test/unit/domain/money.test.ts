import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { MICROS_PER_UNIT, costForDuration, microsToUnits, unitsToMicros } from '../../../shared/domain/money.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('unitsToMicros', () => {
  it('has a million micros per unit', () => {
    expect(MICROS_PER_UNIT).toBe(1_000_000);
  });

  it.each([
    [0.526, 526_000],
    [0.45, 450_000],
    [7.2, 7_200_000],
    [3.06, 3_060_000],
    [1.005, 1_005_000], // 1.005 is 1.00499999999999989… as a double
    [0.1 + 0.2, 300_000], // 0.30000000000000004
    [0, 0],
    [12, 12_000_000],
    [0.000001, 1],
  ])('parses the number %s as %i micros', (units, micros) => {
    expect(unitsToMicros(units)).toBe(micros);
  });

  it.each([
    ['3.912', 3_912_000],
    ['0.526', 526_000],
    ['0.90', 900_000],
    ['0.01', 10_000],
    ['0.000001', 1],
    ['10', 10_000_000],
    ['  0.45 ', 450_000],
    ['123456.789012', 123_456_789_012],
  ])('parses the string %j as %i micros', (units, micros) => {
    expect(unitsToMicros(units)).toBe(micros);
  });

  it('adds "0.1" and "0.2" to exactly "0.3" in micros (no float trap)', () => {
    expect(unitsToMicros('0.1') + unitsToMicros('0.2')).toBe(unitsToMicros('0.3'));
    expect(unitsToMicros('0.3')).toBe(300_000);
  });

  it('always returns an integer', () => {
    for (const units of [0.1, 0.7, 1.1, 2.675, 1 / 3, 99.999999]) {
      expect(Number.isInteger(unitsToMicros(units)), String(units)).toBe(true);
    }
  });

  it('is exact for every decimal with up to six places (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999 }), fc.integer({ min: 0, max: 999_999 }), (whole, fraction) => {
        const text = `${whole}.${String(fraction).padStart(6, '0')}`;
        expect(unitsToMicros(text)).toBe(whole * 1_000_000 + fraction);
      }),
    );
  });

  it('agrees between the number and the string form of short prices (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99_999 }), fc.integer({ min: 0, max: 999 }), (whole, millis) => {
        const text = `${whole}.${String(millis).padStart(3, '0')}`;
        expect(unitsToMicros(Number(text))).toBe(unitsToMicros(text));
        expect(unitsToMicros(text)).toBe(whole * 1_000_000 + millis * 1_000);
      }),
    );
  });

  it.each(['abc', '', '   ', '1.2.3', '1e3', '1,5', '$1', '1 000', 'NaN', 'Infinity', '0x10', '.', '--1'])(
    'rejects the string %j with a RangeError',
    (garbage) => {
      expect(() => unitsToMicros(garbage)).toThrow(RangeError);
    },
  );

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('rejects the number %s', (garbage) => {
    expect(() => unitsToMicros(garbage)).toThrow(RangeError);
  });

  it('never returns a micro count beyond exact integer range (rejects it instead)', () => {
    // 9,007,199,254.740993 units = 2^53 + 1 micros, which a JS number cannot hold exactly.
    let result: number | undefined;
    let error: unknown;
    try {
      result = unitsToMicros('9007199254.740993');
    } catch (e) {
      error = e;
    }
    if (error === undefined) {
      expect(Number.isSafeInteger(result)).toBe(true);
    } else {
      expect(error).toBeInstanceOf(RangeError);
    }
  });
});

describe('costForDuration', () => {
  it('$0.45/h for 90 minutes is 675000 micros', () => {
    expect(costForDuration(450_000, 90 * 60_000)).toBe(675_000);
  });

  it('is exact for a year at $7.20/h (product far beyond 2^53)', () => {
    // 365 × 24 h × 7.20 = 63 072.00 units
    expect(costForDuration(7_200_000, 365 * DAY)).toBe(63_072_000_000);
    // leap year: 366 × 24 × 7.20 = 63 244.80 units
    expect(costForDuration(7_200_000, 366 * DAY)).toBe(63_244_800_000);
    // $7.20/h is exactly 2 micros per millisecond, so one extra millisecond shows up exactly.
    expect(costForDuration(7_200_000, 365 * DAY + 1)).toBe(63_072_000_002);
  });

  it('is exact for ten years of the most expensive listed machine', () => {
    // 3 652 days × 24 h × 7.20 = 631 065.60 units
    expect(costForDuration(7_200_000, 3_652 * DAY)).toBe(631_065_600_000);
  });

  it('rounds half up to the micro', () => {
    // 1 micro/h for half an hour = 0.5 micro → 1
    expect(costForDuration(1, HOUR / 2)).toBe(1);
    // a millisecond less is under half → 0
    expect(costForDuration(1, HOUR / 2 - 1)).toBe(0);
    // 3 micros/h for half an hour = 1.5 → 2
    expect(costForDuration(3, HOUR / 2)).toBe(2);
    // 5 micros/h for 6 minutes = 0.5 → 1
    expect(costForDuration(5, 6 * 60_000)).toBe(1);
    // 1 micro/h for 1.5 h = 1.5 → 2; for 2.5 h = 2.5 → 3 (half up, not half even)
    expect(costForDuration(1, 1.5 * HOUR)).toBe(2);
    expect(costForDuration(1, 2.5 * HOUR)).toBe(3);
  });

  it('costs nothing for no time, negative time or a zero rate', () => {
    expect(costForDuration(450_000, 0)).toBe(0);
    expect(costForDuration(450_000, -HOUR)).toBe(0);
    expect(costForDuration(0, HOUR)).toBe(0);
  });

  it('equals rate × time / 1 h rounded half up, computed exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000_000 }),
        fc.integer({ min: 1, max: 20 * 365 * DAY }),
        (rate, ms) => {
          // round half up of rate·ms / 3.6e6 = floor((2·rate·ms + 3.6e6) / 7.2e6), in bigint
          const expected = (2n * BigInt(rate) * BigInt(ms) + 3_600_000n) / 7_200_000n;
          expect(costForDuration(rate, ms)).toBe(Number(expected));
        },
      ),
    );
  });

  it('over a split interval equals the sum of its parts within 1 micro (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50_000_000 }),
        fc.integer({ min: 0, max: 5 * 365 * DAY }),
        fc.integer({ min: 0, max: 5 * 365 * DAY }),
        (rate, a, b) => {
          const whole = costForDuration(rate, a + b);
          const parts = costForDuration(rate, a) + costForDuration(rate, b);
          expect(Math.abs(whole - parts)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });

  it('never decreases as time goes on (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50_000_000 }), fc.integer({ min: 0, max: 365 * DAY }), fc.integer({ min: 0, max: DAY }), (rate, a, extra) => {
        expect(costForDuration(rate, a + extra)).toBeGreaterThanOrEqual(costForDuration(rate, a));
      }),
    );
  });
});

describe('microsToUnits', () => {
  it.each([
    [450_000, 0.45],
    [675_000, 0.675],
    [1_005_000, 1.005],
    [1_234_567, 1.234567],
    [263_000, 0.263],
    [526_000, 0.526],
    [1_234_560_000, 1234.56],
    [1, 0.000001],
    [0, 0],
    [63_072_000_000, 63_072],
  ])('%i micros → %s, never rounded to cents', (micros, shown) => {
    expect(microsToUnits(micros)).toBe(shown);
  });

  it('prints as the exact decimal of the micros, so JSON carries the amount to the micro (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999_999_999 }), (micros) => {
        const printed = JSON.stringify(microsToUnits(micros));
        expect(unitsToMicros(Number(printed))).toBe(micros);
        const whole = Math.floor(micros / MICROS_PER_UNIT);
        const fraction = String(micros % MICROS_PER_UNIT).padStart(6, '0').replace(/0+$/, '');
        expect(printed).toBe(fraction ? `${whole}.${fraction}` : `${whole}`);
      }),
    );
  });
});
