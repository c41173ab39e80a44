import { useNow } from '../clock.ts';
import { formatCountdown, formatDateTime } from '../lib/format.ts';
import { eventStatusMeaning, eventStatusTone, subscriptionStatusTone } from '../lib/status.ts';

interface StatusBadgeProps {
  status: string;
  /** For RETRYING: when the next attempt is due; shown as a countdown. */
  nextAttemptAt?: string | null;
  /** Fixes the time the countdown counts from (tests); the live clock otherwise. */
  now?: number;
}

/** An event's status; RETRYING also counts down to the next attempt. */
export function StatusBadge({ status, nextAttemptAt, now }: StatusBadgeProps) {
  return (
    <span className="status">
      <span data-testid="status-badge" className={`badge tone-${eventStatusTone(status)}`} title={eventStatusMeaning(status)}>
        {status}
      </span>
      {status === 'RETRYING' && nextAttemptAt ? <Countdown to={nextAttemptAt} now={now} /> : null}
    </span>
  );
}

/** "next try in 12s", ticking every second. */
export function Countdown({ to, now, prefix = 'next try' }: { to: string; now?: number; prefix?: string }) {
  const liveNow = useNow();
  const left = Date.parse(to) - (now ?? liveNow);
  return (
    <span className="countdown" title={`Due at ${formatDateTime(to)}`}>
      {[prefix, left > 0 ? `in ${formatCountdown(left)}` : 'due now'].filter(Boolean).join(' ')}
    </span>
  );
}

export function SubscriptionStatusPill({ status }: { status: string }) {
  return <span className={`pill tone-${subscriptionStatusTone(status)}`}>{status.toLowerCase()}</span>;
}
