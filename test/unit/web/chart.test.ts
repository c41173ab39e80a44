import { describe, expect, it } from 'vitest';
import {
  axisLabelIndexes,
  niceCeil,
  pathOf,
  shapeDeliveryBars,
  shapeLatency,
  successPercent,
  ticksFor,
  type TimelineBucket,
} from '../../../web/src/lib/chart.ts';

const bucket = (minute: number, succeeded: number, failed: number, p50: number | null = null, p95: number | null = null): TimelineBucket => ({
  minute: new Date(Date.UTC(2025, 0, 1, 12, minute)).toISOString(),
  succeeded,
  failed,
  p50DurationMs: p50,
  p95DurationMs: p95,
});

describe('niceCeil', () => {
  it.each([
    [0, 1],
    [1, 1],
    [3, 5],
    [7, 10],
    [11, 20],
    [21, 25],
    [26, 50],
    [140, 200],
    [1001, 2000],
  ])('%d → %d', (n, nice) => {
    expect(niceCeil(n)).toBe(nice);
  });
});

describe('ticksFor', () => {
  it('has 0, the middle and the top when the middle is whole', () => {
    expect(ticksFor(10)).toEqual([0, 5, 10]);
    expect(ticksFor(25)).toEqual([0, 25]);
    expect(ticksFor(1)).toEqual([0, 1]);
    expect(ticksFor(2)).toEqual([0, 1, 2]);
  });
});

describe('successPercent', () => {
  it('is null without attempts', () => {
    expect(successPercent(0, 0)).toBeNull();
    expect(successPercent(3, 1)).toBe(75);
  });
});

describe('shapeDeliveryBars', () => {
  const buckets = [bucket(0, 0, 0), bucket(1, 6, 2), bucket(2, 3, 0), bucket(3, 0, 1)];
  const shaped = shapeDeliveryBars(buckets, { width: 400, height: 100 }, 0);

  it('scales to a round number above the tallest bar', () => {
    expect(shaped.scaleMax).toBe(10);
  });

  it('stacks succeeded and failed in proportion', () => {
    expect(shaped.bars[1]).toMatchObject({ total: 8, succeededHeight: 60, failedHeight: 20, x: 100, width: 100 });
    expect(shaped.bars[0]).toMatchObject({ total: 0, succeededHeight: 0, failedHeight: 0 });
  });

  it('sums the window and its success percentage', () => {
    expect(shaped.succeeded).toBe(9);
    expect(shaped.failed).toBe(3);
    expect(shaped.successPercent).toBe(75);
  });

  it('copes with no buckets and with all-zero buckets', () => {
    expect(shapeDeliveryBars([], { width: 100, height: 50 })).toMatchObject({ bars: [], scaleMax: 1, successPercent: null });
    const zeros = shapeDeliveryBars([bucket(0, 0, 0)], { width: 100, height: 50 });
    expect(zeros.scaleMax).toBe(1);
    expect(zeros.bars[0]!.succeededHeight).toBe(0);
  });
});

describe('shapeLatency', () => {
  it('breaks the line where a minute had no attempts', () => {
    const lines = shapeLatency([bucket(0, 1, 0, 100, 300), bucket(1, 0, 0), bucket(2, 1, 0, 50, 80), bucket(3, 1, 0, 60, 90)], { width: 400, height: 100 });
    expect(lines.scaleMax).toBe(500);
    expect(lines.p95).toHaveLength(2);
    expect(lines.p95[0]).toEqual([{ x: 50, y: 40, value: 300, minute: bucket(0, 0, 0).minute }]);
    expect(lines.p50[1]!.map((point) => point.x)).toEqual([250, 350]);
    expect(lines.hasData).toBe(true);
  });

  it('has no data without latencies', () => {
    expect(shapeLatency([bucket(0, 0, 0)], { width: 100, height: 100 }).hasData).toBe(false);
  });

  it('draws a path through a segment', () => {
    expect(
      pathOf([
        { x: 0, y: 10, value: 1, minute: '' },
        { x: 5.55, y: 3, value: 1, minute: '' },
      ]),
    ).toBe('M0 10 L5.6 3');
  });
});

describe('axisLabelIndexes', () => {
  it('labels every n minutes counting back from the last', () => {
    expect(axisLabelIndexes(60, 15)).toEqual([14, 29, 44, 59]);
    expect(axisLabelIndexes(0, 10)).toEqual([]);
    expect(axisLabelIndexes(3, 10)).toEqual([2]);
  });
});
