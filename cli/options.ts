import { InvalidArgumentError } from 'commander';

/** Option-value parsers: a bad value is a usage error reported by commander before any request. */

export function wholeNumber(name: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
      throw new InvalidArgumentError(`${name} must be a whole number.`);
    }
    if (n < min) throw new InvalidArgumentError(`${name} must be at least ${min}.`);
    return n;
  };
}

export function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
      throw new InvalidArgumentError(`${name} must be a positive number.`);
    }
    return n;
  };
}

/** `--tag key=value`, repeatable, into one map. */
export function collectTag(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`'${value}' is not key=value.`);
  return { ...previous, [value.slice(0, eq).trim()]: value.slice(eq + 1).trim() };
}

export const upper = (value: string) => value.trim().toUpperCase();
