import { describe, expect, it } from 'vitest';
import { atLeast, atMost, formatTable, ifConfirmed, row } from '../../bench/lib/report.ts';

describe('bench targets', () => {
  it('judges a value against its limit, and leaves a missing value unjudged', () => {
    expect(atLeast(2_100, 2_000, 'ev/s')).toEqual({ text: '≥ 2000 ev/s', pass: true });
    expect(atLeast(1_999, 2_000, 'ev/s').pass).toBe(false);
    expect(atMost(10, 10, 'ms')).toEqual({ text: '≤ 10 ms', pass: true });
    expect(atMost(null, 10, 'ms').pass).toBeNull();
  });

  it('fails a rate target whose rate did not hold over the long window, however high it was', () => {
    expect(ifConfirmed(atLeast(2_500, 2_000, 'ev/s'), true).pass).toBe(true);
    expect(ifConfirmed(atLeast(2_500, 2_000, 'ev/s'), false)).toEqual({ text: '≥ 2000 ev/s', pass: false });
    expect(ifConfirmed(atLeast(1_500, 2_000, 'ev/s'), true).pass).toBe(false);
  });

  it('prints the verdict in the table', () => {
    const table = formatTable([row('4 sustained', 'top rate', 2_500, 'ev/s', ifConfirmed(atLeast(2_500, 2_000, 'ev/s'), false))]);
    expect(table).toMatch(/\| 4 sustained \| top rate \| +2,500 ev\/s \| ≥ 2000 ev\/s \| FAIL +\|/);
  });
});
