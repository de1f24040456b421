/**
 * Money is held in integer micro-units (1 currency unit = 1,000,000 micros) and never as a
 * float. Floats appear only at the edge, when a figure is shown to a person.
 */
export type Micros = number;

export const MICROS_PER_UNIT = 1_000_000;
const MS_PER_HOUR = 3_600_000n;

/** Parse a decimal price such as "0.526" or 0.526 into micros without float drift. */
export function unitsToMicros(units: number | string): Micros {
  const text = typeof units === 'number' ? units.toFixed(6) : units.trim();
  const match = /^(-?)(\d+)(?:\.(\d{1,6}))?$/.exec(text);
  if (!match) throw new RangeError(`Not a money amount: ${units}`);
  const [, sign, whole, fraction = ''] = match;
  const micros = Number(whole) * MICROS_PER_UNIT + Number(fraction.padEnd(6, '0'));
  if (!Number.isSafeInteger(micros)) throw new RangeError(`Money amount too large to hold exactly: ${units}`);
  return sign && micros !== 0 ? -micros : micros;
}

/** Cost of running at `ratePerHour` micros for `elapsedMs`, rounded half up to a micro. */
export function costForDuration(ratePerHour: Micros, elapsedMs: number): Micros {
  if (elapsedMs <= 0 || ratePerHour <= 0) return 0;
  // BigInt keeps rate × milliseconds exact; the product overflows 2^53 within days.
  const product = BigInt(ratePerHour) * BigInt(Math.floor(elapsedMs));
  return Number((product + MS_PER_HOUR / 2n) / MS_PER_HOUR);
}

/**
 * Micros as a decimal number of currency units, exact: 263000 → 0.263, 526000 → 0.526. A
 * micro-unit figure has at most six decimals, and below 10^15 micros the nearest double prints
 * back as exactly that decimal, so JSON carries the exact amount. Never rounded to cents: the API
 * shows a price as priced and a cost to the micro; rounding is for people (the CLI, the console).
 */
export function microsToUnits(micros: Micros): number {
  return micros / MICROS_PER_UNIT;
}
