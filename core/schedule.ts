// Durations and the retry schedule: pure functions, no I/O.

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses `250ms`, `10s`, `1m`, `72h`, `30d` (or a bare number of milliseconds) into milliseconds. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a duration (use a number with ms, s, m, h or d, e.g. 30s)`);
  const ms = Number(match[1]) * UNIT_MS[(match[2] ?? 'ms') as keyof typeof UNIT_MS];
  if (!Number.isFinite(ms)) throw new Error(`"${text}" is too large`);
  return Math.round(ms);
}

/** Parses a comma-separated list of durations: the delays before the 2nd, 3rd, … attempt. */
export function parseSchedule(text: string): number[] {
  const parts = text.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (parts.length === 0) throw new Error('the schedule is empty (e.g. 10s,30s,1m)');
  return parts.map(parseDuration);
}

/** Formats milliseconds the way the schedule is written, for messages and logs. */
export function formatDuration(ms: number): string {
  if (ms % UNIT_MS.h === 0 && ms > 0) return `${ms / UNIT_MS.h}h`;
  if (ms % UNIT_MS.m === 0 && ms > 0) return `${ms / UNIT_MS.m}m`;
  if (ms % UNIT_MS.s === 0 && ms > 0) return `${ms / UNIT_MS.s}s`;
  return `${ms}ms`;
}

export interface RetryDecisionInput {
  /** Attempts made so far in this series, including the one that just failed (1-based). */
  attemptsInSeries: number;
  maxAttempts: number;
  schedule: readonly number[];
  /** The receiver's Retry-After, in ms, when it answered 429 or 503 with one. */
  retryAfterMs?: number;
  /** A number in [0, 1); defaults to Math.random. Injected so tests are deterministic. */
  random?: () => number;
}

/** Jitter spreads retries of many events failing together; kept well inside ±20%. */
export const RETRY_JITTER = 0.1;

/**
 * How long to wait before the next attempt, or null when the series is used up.
 * The n-th failure waits schedule[n-1]; the last delay repeats if the schedule is short.
 * A Retry-After is honoured as given, capped at the longest scheduled delay.
 */
export function nextRetryDelay(input: RetryDecisionInput): number | null {
  const { attemptsInSeries, maxAttempts, schedule } = input;
  if (attemptsInSeries >= maxAttempts) return null;
  const longest = Math.max(...schedule);
  if (input.retryAfterMs !== undefined) return Math.min(Math.max(0, input.retryAfterMs), longest);
  const scheduled = schedule[Math.min(attemptsInSeries, schedule.length) - 1] ?? longest;
  const random = input.random ?? Math.random;
  return Math.round(scheduled * (1 + RETRY_JITTER * (2 * random() - 1)));
}

/** Reads a Retry-After header (delta-seconds or an HTTP date) as milliseconds from `now`. */
export function parseRetryAfter(header: string | undefined | null, now = Date.now()): number | undefined {
  if (header == null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only HTTP dates (IMF-fixdate or RFC 850, both in GMT): Date.parse alone reads "1.5" or
  // "-1" as dates in 2001, which would mean "retry now".
  if (!/^[A-Za-z]{3,9}, \d{2}[ -][A-Za-z]{3}[ -]\d{2,4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
