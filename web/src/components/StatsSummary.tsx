import { formatCount, formatDuration, formatPercent } from '../lib/format.ts';

export interface SummaryStats {
  attempts: number;
  failed: number;
  successRate: number | null;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
}

/** Success rate, attempts and latency over the last 24 h, as a definition list. */
export function StatsSummary({ stats, className = 'stats', warnBelow }: { stats: SummaryStats; className?: string; warnBelow?: number }) {
  const low = warnBelow !== undefined && stats.successRate != null && stats.successRate < warnBelow;
  return (
    <dl className={className}>
      <div>
        <dt>Success, 24 h</dt>
        <dd className={low ? 'tone-text-danger' : undefined}>{formatPercent(stats.successRate)}</dd>
      </div>
      <div>
        <dt>Attempts, 24 h</dt>
        <dd>
          {formatCount(stats.attempts)}
          {stats.failed > 0 ? <span className="tone-text-danger small"> {formatCount(stats.failed)} failed</span> : null}
        </dd>
      </div>
      <div>
        <dt>Latency p50</dt>
        <dd>{formatDuration(stats.p50DurationMs)}</dd>
      </div>
      <div>
        <dt>Latency p95</dt>
        <dd>{formatDuration(stats.p95DurationMs)}</dd>
      </div>
    </dl>
  );
}
