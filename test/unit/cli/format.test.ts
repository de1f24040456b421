import { describe, expect, it } from 'vitest';
import { statisticsPairs } from '../../../cli/commands/stats.ts';
import { bytes, duration, money, renderKeyValues, renderTable, timestamp } from '../../../cli/format.ts';

describe('format', () => {
  it('shows money decimals as dollars, keeping sub-cent prices', () => {
    expect(money(0.45)).toBe('$0.45');
    expect(money(3)).toBe('$3.00');
    expect(money(12.3)).toBe('$12.30');
    expect(money(0.526)).toBe('$0.526');
    expect(money(0.0116)).toBe('$0.0116');
    expect(money(-1.5)).toBe('-$1.50');
    expect(money('0.45')).toBe('$0.45');
    expect(money(null)).toBe('-');
    expect(money(undefined)).toBe('-');
  });

  it('shows byte counts in binary units', () => {
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1536)).toBe('1.5 KiB');
    expect(bytes(13_287_936)).toBe('12.7 MiB');
    expect(bytes(2 * 1024 ** 3)).toBe('2 GiB');
    expect(bytes(-1)).toBe('-');
    expect(bytes('12')).toBe('-');
  });

  it('aligns table columns, right-aligning where asked', () => {
    const lines = renderTable(
      [
        { header: 'ID', value: (r: { id: string; cost: number }) => r.id },
        { header: 'COST', value: (r) => money(r.cost), align: 'right' },
      ],
      [
        { id: 'a', cost: 0.45 },
        { id: 'longer-id', cost: 123.4 },
      ],
    );
    expect(lines).toEqual(['ID            COST', 'a            $0.45', 'longer-id  $123.40']);
  });

  it('aligns key: value lines and leaves out undefined values', () => {
    expect(renderKeyValues([['id', 'x'], ['missing', undefined], ['status', 'READY']])).toEqual([
      'id:      x',
      'status:  READY',
    ]);
  });

  it('formats timestamps and durations', () => {
    expect(timestamp('2025-03-01T10:00:00.123Z')).toBe('2025-03-01T10:00:00Z');
    expect(timestamp(null)).toBe('-');
    expect(duration(4_000)).toBe('4s');
    expect(duration(93_000)).toBe('1m 33s');
    expect(duration(7_380_000)).toBe('2h 3m');
  });

  it('folds micros twins and duration units into the statistics they describe', () => {
    expect(
      statisticsPairs({ totalCost: 1.5, totalCostMicros: 1_500_000, averageDuration: 60, averageDurationUnit: 'seconds', revenueMicros: 450_000 }),
    ).toEqual([
      ['totalCost', '$1.50'],
      ['averageDuration', '1m 0s'],
      ['revenueMicros', '$0.45'],
    ]);
  });
});
