import { type OutputStream, writeLine } from './io.ts';

/** Human output: compact aligned tables and `key: value` lines. Every printer takes its stream. */

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  align?: 'left' | 'right';
}

export function renderTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string[] {
  const cells = rows.map((row) => columns.map((c) => oneLine(c.value(row))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (columns[i]!.align === 'right' ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)];
}

export function printTable<T>(out: OutputStream, columns: readonly Column<T>[], rows: readonly T[]): void {
  for (const l of renderTable(columns, rows)) writeLine(out, l);
}

/** `key: value` lines with the values aligned; pairs whose value is undefined are left out. */
export function renderKeyValues(pairs: ReadonlyArray<readonly [string, string | undefined]>): string[] {
  const shown = pairs.filter((p): p is readonly [string, string] => p[1] !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length + 1));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${v}`);
}

export function printKeyValues(out: OutputStream, pairs: ReadonlyArray<readonly [string, string | undefined]>): void {
  for (const l of renderKeyValues(pairs)) writeLine(out, l);
}

export function printJson(out: OutputStream, payload: unknown): void {
  writeLine(out, JSON.stringify(payload, null, 2));
}

/**
 * Money arrives as decimal currency units (0.45); show it as `$0.45`. Amounts finer than a
 * cent (an hourly price such as 0.0116) keep up to four decimals.
 */
export function money(value: unknown): string {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) return '-';
  const abs = Math.abs(n);
  // "0.4500" → "0.45", "0.5260" → "0.526", "3.0000" → "3.00", "0.0116" stays.
  const digits = abs.toFixed(4).replace(/(\.\d{2}\d*?)0+$/, '$1');
  return `${n < 0 && Number(digits) !== 0 ? '-' : ''}$${digits}`;
}

/** An ISO timestamp without milliseconds; `-` when absent. */
export function timestamp(value: unknown): string {
  if (typeof value !== 'string' || value === '') return '-';
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return value;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** 93_000 → `1m 33s`; 7_380_000 → `2h 3m`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** 1536 → `1.5 KiB`; 13_287_936 → `12.7 MiB`; `-` when not a number. */
export function bytes(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = value;
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${n.toFixed(1).replace(/\.0$/, '')} ${units[unit]}`;
}

export function text(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  return String(value);
}

/** A value worth showing as a string, or undefined for null, undefined and ''. */
export function present(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}

export function tagList(tags: Record<string, string> | null | undefined): string | undefined {
  if (!tags || Object.keys(tags).length === 0) return undefined;
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

function oneLine(value: string): string {
  return value.replace(/\s*\n\s*/g, ' ');
}
