import { describe, expect, it } from 'vitest';
import {
  RETRY_JITTER,
  formatDuration,
  nextRetryDelay,
  parseDuration,
  parseRetryAfter,
  parseSchedule,
} from '../../core/schedule.ts';

const SCHEDULE = [10_000, 30_000, 60_000, 300_000, 900_000] as const;

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['10s', 10_000],
    ['1m', 60_000],
    ['5m', 300_000],
    ['72h', 72 * 3_600_000],
    ['0s', 0],
    ['0', 0],
  ])('parses %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('reads a bare number as milliseconds', () => {
    expect(parseDuration('1500')).toBe(1500);
  });

  it('accepts fractional values and rounds to whole milliseconds', () => {
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('0.5h')).toBe(1_800_000);
    expect(parseDuration('2.4ms')).toBe(2);
    expect(parseDuration('2.6ms')).toBe(3);
  });

  it('tolerates surrounding whitespace and a space before the unit', () => {
    expect(parseDuration('  30s  ')).toBe(30_000);
    expect(parseDuration('30 s')).toBe(30_000);
  });

  it.each(['', '   ', 'abc', '10x', '10 sec', '-5s', '1e3', 's', '10s5', '1w', '10S', '.5s', '5.s'])(
    'rejects %j',
    (text) => {
      expect(() => parseDuration(text)).toThrow(/is not a duration/);
    },
  );

  it('quotes the offending text in the error', () => {
    expect(() => parseDuration('soon')).toThrow('"soon"');
  });

  it('rejects a value too large to be finite', () => {
    expect(() => parseDuration(`${'9'.repeat(400)}h`)).toThrow(/too large/);
  });
});

describe('parseSchedule', () => {
  it('parses the default schedule', () => {
    expect(parseSchedule('10s,30s,1m,5m,15m')).toEqual([...SCHEDULE]);
  });

  it('parses a single delay', () => {
    expect(parseSchedule('2s')).toEqual([2_000]);
  });

  it('keeps the order given (no sorting or de-duplication)', () => {
    expect(parseSchedule('1m,10s,10s')).toEqual([60_000, 10_000, 10_000]);
  });

  it('ignores whitespace and empty entries', () => {
    expect(parseSchedule(' 10s , 30s ,, 1m, ')).toEqual([10_000, 30_000, 60_000]);
  });

  it.each(['', ' ', ',', ' , ,'])('rejects the empty schedule %j', (text) => {
    expect(() => parseSchedule(text)).toThrow(/empty/);
  });

  it('rejects a schedule with one bad entry, naming it', () => {
    expect(() => parseSchedule('10s,1q,1m')).toThrow('"1q"');
  });
});

describe('formatDuration', () => {
  it.each([
    [3_600_000, '1h'],
    [72 * 3_600_000, '72h'],
    [60_000, '1m'],
    [900_000, '15m'],
    [90_000, '90s'],
    [10_000, '10s'],
    [1_000, '1s'],
    [1_500, '1500ms'],
    [250, '250ms'],
    [0, '0ms'],
  ])('formats %d ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips with parseDuration', () => {
    for (const ms of [0, 1, 999, 1_000, 61_000, 90_000, 3_600_000, 5_400_000, 259_200_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});

describe('nextRetryDelay', () => {
  const base = { maxAttempts: 10, schedule: SCHEDULE };
  const middle = () => 0.5;

  it('uses a ±10% jitter', () => {
    expect(RETRY_JITTER).toBe(0.1);
  });

  it('waits schedule[n-1] after the n-th failure (random 0.5 = no jitter)', () => {
    const delays = [1, 2, 3, 4, 5].map((attemptsInSeries) => nextRetryDelay({ ...base, attemptsInSeries, random: middle }));
    expect(delays).toEqual([10_000, 30_000, 60_000, 300_000, 900_000]);
  });

  it('repeats the last delay when the schedule is shorter than maxAttempts', () => {
    for (const attemptsInSeries of [5, 6, 7, 9]) {
      expect(nextRetryDelay({ ...base, attemptsInSeries, random: middle })).toBe(900_000);
    }
    expect(nextRetryDelay({ attemptsInSeries: 3, maxAttempts: 5, schedule: [5_000], random: middle })).toBe(5_000);
  });

  it('returns null once the series is used up', () => {
    expect(nextRetryDelay({ attemptsInSeries: 5, maxAttempts: 5, schedule: SCHEDULE, random: middle })).toBeNull();
    expect(nextRetryDelay({ attemptsInSeries: 6, maxAttempts: 5, schedule: SCHEDULE, random: middle })).toBeNull();
    expect(nextRetryDelay({ attemptsInSeries: 1, maxAttempts: 1, schedule: SCHEDULE, random: middle })).toBeNull();
  });

  it('still retries on the last attempt before maxAttempts', () => {
    expect(nextRetryDelay({ attemptsInSeries: 4, maxAttempts: 5, schedule: SCHEDULE, random: middle })).toBe(300_000);
  });

  it('gives the lower bound (-10%) for random() = 0', () => {
    expect(nextRetryDelay({ ...base, attemptsInSeries: 1, random: () => 0 })).toBe(9_000);
    expect(nextRetryDelay({ ...base, attemptsInSeries: 5, random: () => 0 })).toBe(810_000);
  });

  it('gives (just under) the upper bound (+10%) for random() = 0.999', () => {
    // 10_000 * (1 + 0.1 * (2 * 0.999 - 1)) = 10_998
    expect(nextRetryDelay({ ...base, attemptsInSeries: 1, random: () => 0.999 })).toBe(10_998);
    expect(nextRetryDelay({ ...base, attemptsInSeries: 5, random: () => 0.999 })).toBe(989_820);
  });

  it('scales linearly with random() between the bounds', () => {
    expect(nextRetryDelay({ ...base, attemptsInSeries: 2, random: () => 0.25 })).toBe(28_500);
    expect(nextRetryDelay({ ...base, attemptsInSeries: 2, random: () => 0.75 })).toBe(31_500);
  });

  it('returns whole milliseconds', () => {
    const delay = nextRetryDelay({ ...base, schedule: [1_234], attemptsInSeries: 1, random: () => 0.123456 });
    expect(Number.isInteger(delay)).toBe(true);
  });

  it('stays within ±10% with the default Math.random', () => {
    for (let i = 0; i < 200; i++) {
      const delay = nextRetryDelay({ ...base, attemptsInSeries: 2 });
      expect(delay).not.toBeNull();
      expect(delay!).toBeGreaterThanOrEqual(27_000);
      expect(delay!).toBeLessThanOrEqual(33_000);
    }
  });

  it('calls the injected random exactly once per decision', () => {
    let calls = 0;
    nextRetryDelay({
      ...base,
      attemptsInSeries: 1,
      random: () => {
        calls++;
        return 0.5;
      },
    });
    expect(calls).toBe(1);
  });

  describe('with a Retry-After', () => {
    it('uses it as given, without jitter', () => {
      expect(nextRetryDelay({ ...base, attemptsInSeries: 1, retryAfterMs: 120_000, random: () => 0 })).toBe(120_000);
      expect(nextRetryDelay({ ...base, attemptsInSeries: 1, retryAfterMs: 120_000, random: () => 0.999 })).toBe(120_000);
    });

    it('does not consult random at all', () => {
      let called = false;
      nextRetryDelay({
        ...base,
        attemptsInSeries: 1,
        retryAfterMs: 5_000,
        random: () => {
          called = true;
          return 0;
        },
      });
      expect(called).toBe(false);
    });

    it('may be shorter than the scheduled delay', () => {
      expect(nextRetryDelay({ ...base, attemptsInSeries: 3, retryAfterMs: 1_000, random: middle })).toBe(1_000);
    });

    it('honours zero', () => {
      expect(nextRetryDelay({ ...base, attemptsInSeries: 3, retryAfterMs: 0, random: middle })).toBe(0);
    });

    it('is capped at the longest scheduled delay, not the current one', () => {
      expect(nextRetryDelay({ ...base, attemptsInSeries: 1, retryAfterMs: 3_600_000, random: middle })).toBe(900_000);
      expect(nextRetryDelay({ ...base, attemptsInSeries: 1, retryAfterMs: 900_000, random: middle })).toBe(900_000);
      expect(nextRetryDelay({ ...base, attemptsInSeries: 1, retryAfterMs: 600_000, random: middle })).toBe(600_000);
    });

    it('uses the longest delay even when the schedule is not sorted', () => {
      const schedule = [60_000, 5_000, 20_000];
      expect(nextRetryDelay({ attemptsInSeries: 1, maxAttempts: 5, schedule, retryAfterMs: 90_000 })).toBe(60_000);
    });

    it('clamps a negative value to zero', () => {
      expect(nextRetryDelay({ ...base, attemptsInSeries: 1, retryAfterMs: -5_000, random: middle })).toBe(0);
    });

    it('does not extend the series past maxAttempts', () => {
      expect(nextRetryDelay({ attemptsInSeries: 5, maxAttempts: 5, schedule: SCHEDULE, retryAfterMs: 1_000 })).toBeNull();
    });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2024-05-01T12:00:00.000Z');

  it('reads delta-seconds as milliseconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('1', now)).toBe(1_000);
    expect(parseRetryAfter('0', now)).toBe(0);
  });

  it('trims whitespace around delta-seconds', () => {
    expect(parseRetryAfter('  30 ', now)).toBe(30_000);
  });

  it('does not depend on now for delta-seconds', () => {
    expect(parseRetryAfter('45', 0)).toBe(45_000);
    expect(parseRetryAfter('45', now)).toBe(45_000);
  });

  it('reads an IMF-fixdate relative to now', () => {
    expect(parseRetryAfter('Wed, 01 May 2024 12:01:30 GMT', now)).toBe(90_000);
  });

  it('reads the obsolete RFC 850 date format relative to now', () => {
    expect(parseRetryAfter('Wednesday, 01-May-24 12:00:10 GMT', now)).toBe(10_000);
  });

  it('ignores an ISO-8601 date, which is not an HTTP date', () => {
    expect(parseRetryAfter('2024-05-01T13:00:00Z', now)).toBeUndefined();
  });

  it('returns 0 for a date in the past', () => {
    expect(parseRetryAfter('Wed, 01 May 2024 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 May 2024 12:00:00 GMT', now)).toBe(0);
  });

  it('uses Date.now() when now is not given', () => {
    const inOneHour = new Date(Date.now() + 3_600_000).toUTCString();
    const ms = parseRetryAfter(inOneHour);
    expect(ms).toBeDefined();
    // toUTCString drops the milliseconds, and a little time passes.
    expect(ms!).toBeGreaterThan(3_590_000);
    expect(ms!).toBeLessThanOrEqual(3_600_000);
  });

  it.each([undefined, null])('returns undefined for a missing header (%s)', (header) => {
    expect(parseRetryAfter(header, now)).toBeUndefined();
  });

  it.each(['', '   ', 'soon', 'later please', '10 seconds', '5s', '0x10', 'Wed, 99 Foo 2024'])(
    'returns undefined for garbage %j',
    (header) => {
      expect(parseRetryAfter(header, now)).toBeUndefined();
    },
  );

  // V8's Date.parse is lenient: these would read as dates in 2001, i.e. "retry at once".
  it.each(['1.5', '-1', '+5', '1,5', 'in 5', 'abc 12'])(
    'returns undefined for numeric-looking garbage %j',
    (header) => {
      expect(parseRetryAfter(header, now)).toBeUndefined();
    },
  );
});
