// Attempt durations counted per bucket, so that per-minute rollups can answer "p50 and p95 of
// the last 24 hours" by adding up at most 1,440 rows instead of sorting every attempt.
// Bucket i holds durations in (BOUNDS[i-1], BOUNDS[i]] ms; the last one everything above.

/** Upper bounds, ms: steps of about 1.6× from 1 ms to 60 s. */
export const DURATION_BOUNDS_MS = [1, 2, 3, 5, 8, 13, 20, 30, 50, 80, 130, 200, 300, 500, 800, 1_300, 2_000, 3_000, 5_000, 8_000, 13_000, 20_000, 30_000, 60_000] as const;
/** Buckets: one per bound, and one for longer. */
export const DURATION_BUCKETS = DURATION_BOUNDS_MS.length + 1;

/** The bucket (0-based) of a duration. */
export function durationBucket(durationMs: number): number {
  const index = DURATION_BOUNDS_MS.findIndex((bound) => durationMs <= bound);
  return index === -1 ? DURATION_BOUNDS_MS.length : index;
}

/**
 * SQL for an upsert that adds the excluded row's histogram to the row's (`table`, the upsert's
 * alias), bucket by bucket.
 */
export function addedHistogramsSql(table: string): string {
  return `ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0)
    FROM unnest(${table}."durationHistogram", excluded."durationHistogram") WITH ORDINALITY AS t(a, b, i) ORDER BY i)`;
}

export function emptyHistogram(): number[] {
  return new Array<number>(DURATION_BUCKETS).fill(0);
}

/**
 * The q-quantile (0 < q ≤ 1) of a histogram, interpolated linearly inside its bucket, in whole
 * ms; null for an empty histogram. Exact to within the bucket's width (about ±25%).
 */
export function histogramQuantile(histogram: readonly number[], q: number): number | null {
  const total = histogram.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let bucket = 0; bucket < histogram.length; bucket++) {
    const count = histogram[bucket]!;
    if (count > 0 && below + count >= rank) {
      const lower = bucket === 0 ? 0 : DURATION_BOUNDS_MS[bucket - 1]!;
      // The open-ended last bucket: report its lower edge, the most that can be claimed.
      const upper = DURATION_BOUNDS_MS[bucket] ?? lower;
      return Math.round(lower + ((upper - lower) * (rank - below)) / count);
    }
    below += count;
  }
  return DURATION_BOUNDS_MS[DURATION_BOUNDS_MS.length - 1]!;
}
