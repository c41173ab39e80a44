import { describe, expect, it } from 'vitest';
import {
  formatAxisDuration,
  formatClock,
  formatCount,
  formatCountdown,
  formatDuration,
  formatPercent,
  formatRelative,
  shortId,
} from '../../../web/src/lib/format.ts';

describe('formatCountdown', () => {
  it.each([
    [-5_000, 'now'],
    [0, 'now'],
    [1, '1s'],
    [999, '1s'],
    [1_000, '1s'],
    [1_001, '2s'],
    [42_000, '42s'],
    [59_000, '59s'],
    [60_000, '1m 00s'],
    [65_000, '1m 05s'],
    [(59 * 60 + 59) * 1000, '59m 59s'],
    [3_600_000, '1h 00m'],
    [3_600_000 + 2 * 60_000, '1h 02m'],
    [26 * 3_600_000, '1d 2h'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatCountdown(ms)).toBe(text);
  });

  it('says now for values that are not numbers', () => {
    expect(formatCountdown(Number.NaN)).toBe('now');
    expect(formatCountdown(Number.POSITIVE_INFINITY)).toBe('now');
  });
});

describe('formatDuration', () => {
  it.each([
    [null, '–'],
    [undefined, '–'],
    [0, '0 ms'],
    [87, '87 ms'],
    [87.6, '88 ms'],
    [999, '999 ms'],
    [1_240, '1.24 s'],
    [12_500, '12.5 s'],
  ])('%s → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatPercent', () => {
  it.each([
    [null, '–'],
    [1, '100%'],
    [0, '0%'],
    [0.994, '99.4%'],
    [0.5, '50%'],
    [0.9996, '99.9%'],
    [0.0004, '0.1%'],
  ])('%s → %s', (rate, text) => {
    expect(formatPercent(rate)).toBe(text);
  });
});

describe('formatRelative', () => {
  const now = Date.parse('2025-01-01T12:00:00Z');
  it.each([
    ['2025-01-01T12:00:00Z', 'just now'],
    ['2025-01-01T11:59:48Z', '12s ago'],
    ['2025-01-01T11:57:00Z', '3m ago'],
    ['2025-01-01T10:00:00Z', '2h ago'],
    ['2024-12-28T12:00:00Z', '4d ago'],
    ['2025-01-01T12:00:05Z', 'in 5s'],
    ['not a date', '–'],
  ])('%s → %s', (iso, text) => {
    expect(formatRelative(iso, now)).toBe(text);
  });
});

describe('small formats', () => {
  it('shortens ids to their first block', () => {
    expect(shortId('54124e55-69a8-4841-943e-4f8446cadc35')).toBe('54124e55');
    expect(shortId('abc')).toBe('abc');
  });

  it('groups thousands', () => {
    expect(formatCount(1204)).toBe('1,204');
  });

  it('labels chart axes compactly', () => {
    expect(formatAxisDuration(0)).toBe('0');
    expect(formatAxisDuration(250)).toBe('250ms');
    expect(formatAxisDuration(1500)).toBe('1.5s');
    expect(formatAxisDuration(2000)).toBe('2s');
  });

  it('prints local clock times', () => {
    const iso = new Date(2025, 0, 1, 9, 5, 7).toISOString();
    expect(formatClock(iso)).toBe('09:05');
  });
});
