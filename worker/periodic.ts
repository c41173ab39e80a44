// The worker's periodic tasks (sweep, folds, retention...): run at start, then on a fixed
// schedule with a phase of their own, so that their bursts of PostgreSQL work do not fall on the
// same moment. Run together, at 1,000 busy subscriptions, the two 2 s folds and, every minute,
// the sweep, retention, auto-disable and hourly fold took both cores at once for 100 ms and more,
// and the live updates in flight waited for them.
import type { Services } from '../core/services.ts';

export interface PeriodicOptions {
  /** Runs' results are logged at debug level (frequent tasks), else at info. */
  quiet?: boolean;
  /** Runs come at start + phaseMs + k · intervalMs (after the first, at start). */
  phaseMs?: number;
}

/**
 * The first run after `afterMs` of a task scheduled at start + phase + k · interval (k ≥ 0).
 * Counted from the start, so a late run never shifts the ones after it, and tasks given
 * different phases stay apart however long the process runs. Pure.
 */
export function nextRunAt(startMs: number, afterMs: number, intervalMs: number, phaseMs = 0): number {
  const first = startMs + (phaseMs % intervalMs);
  if (afterMs < first) return first;
  return first + (Math.floor((afterMs - first) / intervalMs) + 1) * intervalMs;
}

/** Runs `task` at start and then on its schedule, never two at once; errors are logged, not fatal. */
export function every(
  services: Services,
  name: string,
  intervalMs: number,
  task: () => Promise<number>,
  { quiet = false, phaseMs = 0 }: PeriodicOptions = {},
): () => Promise<void> {
  const startMs = Date.now();
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const run = () => {
    if (running) return;
    running = task()
      .then((count) => {
        if (count > 0) services.log[quiet ? 'debug' : 'info'](`${name} done`, { count });
      })
      .catch((error) => services.log.error(`${name} failed`, { error: (error as Error).message }))
      .finally(() => {
        running = null;
      });
  };
  let due = startMs;
  const schedule = () => {
    if (stopped) return;
    // After the run just due, even if the timer fired a little before it by Date.now()
    // (timers count from the event loop's cached clock).
    due = nextRunAt(startMs, Math.max(due, Date.now()), intervalMs, phaseMs);
    timer = setTimeout(() => {
      run();
      schedule();
    }, Math.max(0, due - Date.now()));
    timer.unref();
  };
  run();
  schedule();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}
