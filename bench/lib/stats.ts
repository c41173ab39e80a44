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
