// Shapes the per-minute timeline buckets into what the SVG charts draw. Pure: no DOM, no React.

export interface TimelineBucket {
  minute: string;
  succeeded: number;
  failed: number;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
}

export interface Box {
  width: number;
  height: number;
}

export interface Bar {
  minute: string;
  succeeded: number;
  failed: number;
  total: number;
  /** Left edge and width, in the box's units. */
  x: number;
  width: number;
  /** Heights of the two stacked parts: succeeded at the bottom, failed on top. */
  succeededHeight: number;
  failedHeight: number;
}

export interface DeliveryBars {
  bars: Bar[];
  /** The value at the top of the plot: a round number at least the tallest bar (at least 1). */
  scaleMax: number;
  ticks: number[];
  succeeded: number;
  failed: number;
  /** Succeeded out of all attempts, 0 to 100; null when there were none. */
  successPercent: number | null;
}

/** The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ n (and ≥ 1): a scale that reads well. */
export function niceCeil(n: number): number {
  if (!Number.isFinite(n) || n <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= n) return step * magnitude;
  }
  return 10 * magnitude;
}

/** 0, the middle (when it is a whole number) and the top of a scale. */
export function ticksFor(scaleMax: number): number[] {
  const middle = scaleMax / 2;
  return Number.isInteger(middle) ? [0, middle, scaleMax] : [0, scaleMax];
}

/** Percentage of successes, 0 to 100, or null with no attempts. */
export function successPercent(succeeded: number, failed: number): number | null {
  const total = succeeded + failed;
  return total === 0 ? null : (succeeded / total) * 100;
}

/** Stacked bars, one per bucket, filling `box` left to right (oldest first, as the API sends them). */
export function shapeDeliveryBars(buckets: readonly TimelineBucket[], box: Box, gap = 1): DeliveryBars {
  const tallest = buckets.reduce((max, bucket) => Math.max(max, bucket.succeeded + bucket.failed), 0);
  const scaleMax = niceCeil(tallest);
  const slot = buckets.length > 0 ? box.width / buckets.length : 0;
  const barWidth = Math.max(1, slot - gap);
  let succeeded = 0;
  let failed = 0;
  const bars = buckets.map((bucket, index) => {
    succeeded += bucket.succeeded;
    failed += bucket.failed;
    return {
      minute: bucket.minute,
      succeeded: bucket.succeeded,
      failed: bucket.failed,
      total: bucket.succeeded + bucket.failed,
      x: index * slot + (slot - barWidth) / 2,
      width: barWidth,
      succeededHeight: (bucket.succeeded / scaleMax) * box.height,
      failedHeight: (bucket.failed / scaleMax) * box.height,
    };
  });
  return { bars, scaleMax, ticks: ticksFor(scaleMax), succeeded, failed, successPercent: successPercent(succeeded, failed) };
}

export interface Point {
  x: number;
  y: number;
  value: number;
  minute: string;
}

export interface LatencyLines {
  p50: Point[][];
  p95: Point[][];
  scaleMax: number;
  ticks: number[];
  /** Whether any minute had a latency at all. */
  hasData: boolean;
}

/**
 * p50 and p95 latency lines over the buckets, each point at the middle of its minute's slot.
 * A minute without attempts (null) breaks the line, so each line is a list of segments.
 */
export function shapeLatency(buckets: readonly TimelineBucket[], box: Box): LatencyLines {
  const highest = buckets.reduce((max, bucket) => Math.max(max, bucket.p95DurationMs ?? 0, bucket.p50DurationMs ?? 0), 0);
  const scaleMax = niceCeil(highest);
  const slot = buckets.length > 0 ? box.width / buckets.length : 0;
  const line = (pick: (bucket: TimelineBucket) => number | null): Point[][] => {
    const segments: Point[][] = [];
    let current: Point[] = [];
    buckets.forEach((bucket, index) => {
      const value = pick(bucket);
      if (value == null || !Number.isFinite(value)) {
        if (current.length > 0) segments.push(current);
        current = [];
        return;
      }
      current.push({ x: index * slot + slot / 2, y: box.height - (value / scaleMax) * box.height, value, minute: bucket.minute });
    });
    if (current.length > 0) segments.push(current);
    return segments;
  };
  const p50 = line((bucket) => bucket.p50DurationMs);
  const p95 = line((bucket) => bucket.p95DurationMs);
  return { p50, p95, scaleMax, ticks: ticksFor(scaleMax), hasData: p50.length > 0 || p95.length > 0 };
}

/** An SVG path through the points of one segment. */
export function pathOf(points: readonly Point[]): string {
  return points.map((point, index) => `${index === 0 ? 'M' : 'L'}${round(point.x)} ${round(point.y)}`).join(' ');
}

/** Indexes of the buckets to label on the time axis: about every `every` minutes, always the last. */
export function axisLabelIndexes(count: number, every: number): number[] {
  if (count <= 0) return [];
  const indexes: number[] = [];
  for (let index = count - 1; index >= 0; index -= every) indexes.unshift(index);
  return indexes;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
