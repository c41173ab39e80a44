// Small statistics helpers: percentiles over samples, rates, rounding for the table.

export interface Summary {
  count: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** The p-th percentile (0..100) of already sorted values, by nearest rank. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function percentile(values: readonly number[], p: number): number | null {
  return percentileSorted(Float64Array.from(values).sort(), p);
}

export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    count: sorted.length,
    mean: sorted.length ? round(sum / sorted.length) : null,
    p50: roundOrNull(percentileSorted(sorted, 50)),
    p90: roundOrNull(percentileSorted(sorted, 90)),
    p99: roundOrNull(percentileSorted(sorted, 99)),
    max: roundOrNull(sorted.length ? sorted[sorted.length - 1]! : null),
  };
}

export function median(values: readonly number[]): number | null {
  return roundOrNull(percentile(values, 50));
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function roundOrNull(value: number | null | undefined, digits = 2): number | null {
  return value === null || value === undefined || !Number.isFinite(value) ? null : round(value, digits);
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Cumulative bucket counts of a Prometheus histogram: [upper bound, observations ≤ it], ascending, +Inf last. */
export type Buckets = [number, number][];

/** Observations made between two scrapes of one histogram, bucket by bucket. */
export function bucketsBetween(before: Buckets, after: Buckets): Buckets {
  const earlier = new Map(before);
  return after.map(([le, count]) => [le, count - (earlier.get(le) ?? 0)]);
}

/**
 * The q-th quantile (0..1) of a histogram, interpolated linearly inside its bucket as
 * Prometheus' histogram_quantile does; null without observations, and the highest finite bound
 * when the quantile falls in the +Inf bucket.
 */
export function histogramQuantile(buckets: Buckets, q: number): number | null {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return lower;
      return count === below ? le : lower + ((le - lower) * (rank - below)) / (count - below);
    }
    lower = le;
    below = count;
  }
  return lower;
}
