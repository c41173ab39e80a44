import { useNow } from '../clock.ts';
import { formatDateTime, formatRelative } from '../lib/format.ts';

/** "3m ago", kept current, with the exact local time on hover. */
export function TimeAgo({ iso, now }: { iso: string; now?: number }) {
  const liveNow = useNow();
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {formatRelative(iso, now ?? liveNow)}
    </time>
  );
}
