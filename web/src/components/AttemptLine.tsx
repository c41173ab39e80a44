import type { LiveAttempt } from '../lib/live.ts';
import { formatDuration, formatTime, shortId } from '../lib/format.ts';
import { attemptErrorText, attemptOutcome } from '../lib/status.ts';
import { memo } from 'react';
import { Link, paths } from '../router.tsx';

/** One attempt in a feed: outcome, event, time and duration, linking to the event. */
export const AttemptLine = memo(function AttemptLine({ attempt, showSubscription }: { attempt: LiveAttempt; showSubscription: boolean }) {
  const error = attemptErrorText(attempt);
  return (
    <div className={`attempt-line ${attempt.success ? 'ok' : 'bad'}`}>
      <span className={`outcome tone-${attempt.success ? 'success' : 'danger'}`} title={attempt.error ?? undefined}>
        {attempt.success ? '✓' : '✕'} <span className="mono">{attemptOutcome(attempt)}</span>
      </span>
      <span className="attempt-what">
        <Link href={paths.event(attempt.event.id)} className="mono" title={attempt.event.id}>
          {attempt.event.eventType ?? shortId(attempt.event.id)}
        </Link>
        <span className="subtle"> #{attempt.attemptNumber}</span>
        {showSubscription ? (
          <>
            <span className="subtle"> → </span>
            <Link href={paths.subscription(attempt.subscription.id)}>{attempt.subscription.name || shortId(attempt.subscription.id)}</Link>
          </>
        ) : null}
        {!attempt.success && error ? <span className="attempt-error"> {error}</span> : null}
      </span>
      <span className="attempt-meta subtle">
        <span>{formatDuration(attempt.durationMs)}</span>
        <time dateTime={attempt.attemptedAt}>{formatTime(attempt.attemptedAt)}</time>
      </span>
    </div>
  );
});
