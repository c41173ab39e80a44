// The Live page's state: attempts as they arrive, held back while paused, filtered by text.

export interface LiveAttempt {
  id: string;
  attemptNumber: number;
  attemptedAt: string;
  durationMs: number;
  success: boolean;
  responseStatus: number | null;
  error: string | null;
  event: { id: string; eventType: string | null; status: string };
  subscription: { id: string; name: string };
}

export interface LiveState {
  /** Shown, newest first. */
  shown: LiveAttempt[];
  /** Arrived while paused, newest first. */
  held: LiveAttempt[];
  paused: boolean;
  succeeded: number;
  failed: number;
  /** Ids seen, so an attempt delivered twice (a reconnect) counts once. */
  seen: ReadonlySet<string>;
}

export const LIVE_LIMIT = 500;

export function initialLiveState(): LiveState {
  return { shown: [], held: [], paused: false, succeeded: 0, failed: 0, seen: new Set() };
}

export type LiveAction =
  | { type: 'attempt'; attempt: LiveAttempt }
  | { type: 'attempts'; attempts: readonly LiveAttempt[] }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'clear' };

export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  switch (action.type) {
    case 'attempts':
      // A batch, oldest first, as they arrived.
      return action.attempts.reduce((current, attempt) => liveReducer(current, { type: 'attempt', attempt }), state);
    case 'attempt': {
      const { attempt } = action;
      if (state.seen.has(attempt.id)) return state;
      const seen = new Set(state.seen);
      seen.add(attempt.id);
      const counts = attempt.success ? { succeeded: state.succeeded + 1 } : { failed: state.failed + 1 };
      if (state.paused) return { ...state, ...counts, seen, held: [attempt, ...state.held].slice(0, LIVE_LIMIT) };
      return { ...state, ...counts, seen, shown: [attempt, ...state.shown].slice(0, LIVE_LIMIT) };
    }
    case 'pause':
      return state.paused ? state : { ...state, paused: true };
    case 'resume':
      return { ...state, paused: false, held: [], shown: [...state.held, ...state.shown].slice(0, LIVE_LIMIT) };
    case 'clear':
      return { ...state, shown: [], held: [] };
  }
}

/**
 * Whether an attempt matches the filter text: every word must appear in its event type,
 * subscription name or id, event id, status code, or `ok`/`failed`.
 */
export function matchesLiveFilter(attempt: LiveAttempt, filter: string): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const haystack = [
    attempt.event.eventType ?? '',
    attempt.event.id,
    attempt.subscription.name,
    attempt.subscription.id,
    attempt.responseStatus != null ? String(attempt.responseStatus) : 'no-response',
    attempt.success ? 'ok succeeded' : 'failed',
    attempt.error ?? '',
  ]
    .join(' ')
    .toLowerCase();
  return words.every((word) => haystack.includes(word));
}
