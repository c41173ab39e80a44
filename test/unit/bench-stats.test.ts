// The benchmark's reading of Prometheus histograms (bench/lib/stats.ts).
import { describe, expect, it } from 'vitest';
import { bucketsBetween, histogramQuantile, type Buckets } from '../../bench/lib/stats.ts';

describe('histogramQuantile', () => {
  const buckets: Buckets = [
    [0.001, 0],
    [0.005, 50],
    [0.01, 90],
    [0.05, 100],
    [Infinity, 100],
  ];

  it('interpolates inside the bucket that holds the rank', () => {
    // Rank 50 is the top of the (0.001, 0.005] bucket; rank 70 is halfway into (0.005, 0.01].
    expect(histogramQuantile(buckets, 0.5)).toBeCloseTo(0.005, 9);
    expect(histogramQuantile(buckets, 0.7)).toBeCloseTo(0.0075, 9);
    expect(histogramQuantile(buckets, 0.99)).toBeCloseTo(0.01 + 0.04 * 0.9, 9);
    expect(histogramQuantile(buckets, 0.25)).toBeCloseTo(0.001 + 0.004 * 0.5, 9);
  });

  it('gives the highest finite bound for a rank in +Inf, and null without observations', () => {
    expect(histogramQuantile([[0.01, 1], [0.1, 2], [Infinity, 10]], 0.99)).toBe(0.1);
    expect(histogramQuantile([[0.01, 0], [Infinity, 0]], 0.5)).toBeNull();
    expect(histogramQuantile([], 0.5)).toBeNull();
  });
});

describe('bucketsBetween', () => {
  it('subtracts an earlier scrape bucket by bucket; a bucket first seen later counts from zero', () => {
    expect(bucketsBetween([[0.01, 5], [Infinity, 7]], [[0.01, 9], [0.1, 3], [Infinity, 15]])).toEqual([[0.01, 4], [0.1, 3], [Infinity, 8]]);
  });
});
