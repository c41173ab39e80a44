import { describe, expect, it } from 'vitest';
import { minuteRollups } from '../../core/delivery-store.ts';
import { durationBucket, emptyHistogram } from '../../core/duration-histogram.ts';

const at = (minute: number, second: number) => new Date(Date.UTC(2026, 10, 28, 12, minute, second));

describe('minuteRollups', () => {
  it('adds up attempts per subscription and minute, with successes and a duration histogram, in a fixed order', () => {
    const rollups = minuteRollups([
      { subscriptionId: 'b', attemptedAt: at(1, 5), success: true, durationMs: 4 },
      { subscriptionId: 'a', attemptedAt: at(1, 59), success: false, durationMs: 900 },
      { subscriptionId: 'a', attemptedAt: at(1, 0), success: true, durationMs: 4 },
      { subscriptionId: 'a', attemptedAt: at(2, 0), success: true, durationMs: 40 },
    ]);
    const histogram = (...durations: number[]) => {
      const counts = emptyHistogram();
      for (const duration of durations) counts[durationBucket(duration)]!++;
      return counts;
    };
    expect(rollups).toEqual([
      { subscriptionId: 'a', minute: at(1, 0), attempts: 2, succeeded: 1, histogram: histogram(900, 4) },
      { subscriptionId: 'a', minute: at(2, 0), attempts: 1, succeeded: 1, histogram: histogram(40) },
      { subscriptionId: 'b', minute: at(1, 0), attempts: 1, succeeded: 1, histogram: histogram(4) },
    ]);
  });
});
