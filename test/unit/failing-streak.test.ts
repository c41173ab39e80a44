import { describe, expect, it } from 'vitest';
import { failingStreakChanges, type StreakOutcome } from '../../core/failing-streak.ts';

const at = (second: number) => new Date(Date.UTC(2026, 10, 28, 12, 0, second));
const outcome = (subscriptionId: string, second: number, result: 'ok' | 'fail' | 'gone'): StreakOutcome => ({
  subscriptionId,
  success: result === 'ok',
  gone: result === 'gone',
  finishedAt: at(second),
});

describe('failingStreakChanges', () => {
  it('clears the streak when the last outcome succeeded, whatever came before', () => {
    expect(failingStreakChanges([outcome('a', 1, 'fail'), outcome('a', 2, 'ok')])).toEqual([{ subscriptionId: 'a', kind: 'clear', gone: false }]);
  });

  it('continues (or starts) a streak from the first failure when there is no success', () => {
    expect(failingStreakChanges([outcome('a', 5, 'fail'), outcome('a', 3, 'fail')])).toEqual([
      { subscriptionId: 'a', kind: 'continue', since: at(3), gone: false },
    ]);
  });

  it('restarts the streak at the first failure after the last success, in time order not input order', () => {
    const changes = failingStreakChanges([outcome('a', 9, 'fail'), outcome('a', 4, 'ok'), outcome('a', 6, 'fail'), outcome('a', 1, 'fail')]);
    expect(changes).toEqual([{ subscriptionId: 'a', kind: 'restart', since: at(6), gone: false }]);
  });

  it('marks a subscription gone on a 410 and keeps subscriptions apart', () => {
    const changes = failingStreakChanges([outcome('a', 1, 'ok'), outcome('b', 2, 'gone'), outcome('a', 3, 'ok')]);
    expect(changes).toEqual([
      { subscriptionId: 'a', kind: 'clear', gone: false },
      { subscriptionId: 'b', kind: 'continue', since: at(2), gone: true },
    ]);
  });
});
