// Formatting of times, durations, rates and ids: pure, so the unit tests can pin them down.

/**
 * Time left until a retry, for a countdown: `now` when due, `42s`, `4m 05s`, `1h 02m`, `2d 3h`.
 * Seconds round up, so a countdown never shows `0s` while time is left.
 */
export function formatCountdown(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return 'now';
  const totalSeconds = Math.ceil(ms / 1000);
  if (totalSeconds < 60) return `${totalSeconds}s`;
  const totalMinutes = Math.floor(totalSeconds / 60);
  if (totalMinutes < 60) return `${totalMinutes}m ${pad2(totalSeconds % 60)}s`;
  const totalHours = Math.floor(totalMinutes / 60);
  if (totalHours < 24) return `${totalHours}h ${pad2(totalMinutes % 60)}m`;
  return `${Math.floor(totalHours / 24)}d ${totalHours % 24}h`;
}

/** An attempt's duration: `87 ms`, `1.24 s`, `12.5 s`; `–` for none. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  return `${seconds < 10 ? seconds.toFixed(2) : seconds.toFixed(1)} s`;
}

/** A rate from 0 to 1 as a percentage: `100%`, `99.4%`, `0%`; `–` when there is none. */
export function formatPercent(rate: number | null | undefined): string {
  if (rate == null || !Number.isFinite(rate)) return '–';
  const percent = Math.min(100, Math.max(0, rate * 100));
  if (percent === 100 || percent === 0) return `${percent}%`;
  // 99.96% must not round up to a misleading 100%, nor 0.04% down to 0%.
  const rounded = Math.round(percent * 10) / 10;
  if (rounded >= 100) return '99.9%';
  if (rounded <= 0) return '0.1%';
  return `${rounded}%`;
}

/** How long ago: `just now`, `12s ago`, `3m ago`, `2h ago`, `4d ago`; `in 5s` for the future. */
export function formatRelative(iso: string, now: number): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '–';
  const diff = now - then;
  if (diff < 0) return `in ${formatCountdown(-diff)}`;
  const seconds = Math.floor(diff / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds}s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ago`;
  return `${Math.floor(hours / 24)}d ago`;
}

/** Local wall-clock time with seconds: `17:43:05`. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '–';
  return `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
}

/** Local date and time: `2025-11-28 17:43:05`. */
export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '–';
  return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ${formatTime(iso)}`;
}

/** Local `HH:MM`, for chart axes. */
export function formatClock(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return `${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
}

/** The first block of a UUID, enough to tell ids apart on screen (the full id goes in a title). */
export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

/** `1,204` */
export function formatCount(n: number): string {
  return new Intl.NumberFormat('en-US').format(n);
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** A latency on a chart axis: `0`, `250ms`, `1.5s`. */
export function formatAxisDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 1000) return `${ms}ms`;
  return `${Number((ms / 1000).toFixed(1))}s`;
}
