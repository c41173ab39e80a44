import { describe, expect, it } from 'vitest';
import { nextRunAt } from '../../worker/periodic.ts';

describe('nextRunAt', () => {
  const start = 1_000_000;

  it('first runs at start + phase', () => {
    expect(nextRunAt(start, start, 60_000, 8_250)).toBe(start + 8_250);
    expect(nextRunAt(start, start + 8_249, 60_000, 8_250)).toBe(start + 8_250);
  });

  it('then every interval after the phase, counted from the start', () => {
    expect(nextRunAt(start, start + 8_250, 60_000, 8_250)).toBe(start + 68_250);
    expect(nextRunAt(start, start + 68_000, 60_000, 8_250)).toBe(start + 68_250);
    expect(nextRunAt(start, start + 10 * 60_000 + 8_250, 60_000, 8_250)).toBe(start + 11 * 60_000 + 8_250);
  });

  it('keeps to the schedule after a late run: no drift', () => {
    // The run due at start + 1 000 ran 40 ms late: the next is still at start + 3 000.
    expect(nextRunAt(start, start + 1_040, 2_000, 1_000)).toBe(start + 3_000);
  });

  it('skips the runs a long stall missed, rather than running them back to back', () => {
    expect(nextRunAt(start, start + 7_500, 2_000, 1_000)).toBe(start + 9_000);
  });

  it('with no phase, runs at whole intervals from the start', () => {
    expect(nextRunAt(start, start, 2_000)).toBe(start + 2_000);
    expect(nextRunAt(start, start + 2_500, 2_000)).toBe(start + 4_000);
  });

  it('takes a phase longer than the interval modulo the interval', () => {
    expect(nextRunAt(start, start, 200, 500)).toBe(start + 100);
    expect(nextRunAt(start, start + 100, 200, 500)).toBe(start + 300);
  });

  it('keeps tasks with different phases apart', () => {
    const runs = (phase: number) => {
      const times: number[] = [];
      let at = start;
      for (let i = 0; i < 60; i++) times.push((at = nextRunAt(start, at, 2_000, phase)) - start);
      return times;
    };
    const folds = runs(0);
    const totals = runs(1_000);
    expect(folds.slice(0, 3)).toEqual([2_000, 4_000, 6_000]);
    expect(totals.slice(0, 3)).toEqual([1_000, 3_000, 5_000]);
    for (const t of totals) expect(folds.some((u) => Math.abs(u - t) < 1_000)).toBe(false);
  });
});
