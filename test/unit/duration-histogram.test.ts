import { describe, expect, it } from 'vitest';
import { DURATION_BOUNDS_MS, DURATION_BUCKETS, durationBucket, emptyHistogram, histogramQuantile } from '../../core/duration-histogram.ts';

function histogramOf(durations: number[]): number[] {
  const histogram = emptyHistogram();
  for (const duration of durations) histogram[durationBucket(duration)]!++;
  return histogram;
}

describe('duration histogram', () => {
  it('puts a duration in the first bucket whose bound it does not exceed, and the rest in the last', () => {
    expect(durationBucket(0)).toBe(0);
    expect(durationBucket(1)).toBe(0);
    expect(durationBucket(2)).toBe(1);
    expect(durationBucket(4)).toBe(3);
    expect(durationBucket(60_000)).toBe(DURATION_BOUNDS_MS.length - 1);
    expect(durationBucket(60_001)).toBe(DURATION_BUCKETS - 1);
  });

  it('has no quantile when empty', () => {
    expect(histogramQuantile(emptyHistogram(), 0.5)).toBeNull();
  });

  it('gives quantiles within their bucket of the exact value', () => {
    const durations = Array.from({ length: 1_000 }, (_, index) => 1 + ((index * 7919) % 400));
    const sorted = [...durations].sort((a, b) => a - b);
    const histogram = histogramOf(durations);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1]!;
      const estimate = histogramQuantile(histogram, q)!;
      const bucket = durationBucket(exact);
      const lower = bucket === 0 ? 0 : DURATION_BOUNDS_MS[bucket - 1]!;
      expect(estimate).toBeGreaterThanOrEqual(lower);
      expect(estimate).toBeLessThanOrEqual(DURATION_BOUNDS_MS[bucket]!);
    }
  });

  it('orders quantiles, and reports a single value by its bucket', () => {
    const histogram = histogramOf([40, 40, 40, 40, 900]);
    expect(histogramQuantile(histogram, 0.5)!).toBeGreaterThan(30);
    expect(histogramQuantile(histogram, 0.5)!).toBeLessThanOrEqual(50);
    expect(histogramQuantile(histogram, 0.95)!).toBeGreaterThan(800);
    expect(histogramQuantile(histogram, 0.95)!).toBeLessThanOrEqual(1_300);
    expect(histogramQuantile(histogramOf([120_000]), 0.5)).toBe(60_000);
  });
});
