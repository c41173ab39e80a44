import { useEffect, useReducer, useRef, useState } from 'react';
import { useQuery } from 'urql';
import { AttemptRecordedSubscription, RecentAttemptsQuery } from '../documents.ts';
import { AttemptLine } from '../components/AttemptLine.tsx';
import { useConnection, useLiveSubscription, useTitle } from '../hooks.ts';
import { formatCount, formatPercent } from '../lib/format.ts';
import { initialLiveState, liveReducer, matchesLiveFilter, LIVE_LIMIT, type LiveAttempt } from '../lib/live.ts';

/** Every attempt across all subscriptions as it is recorded. */
export function LivePage() {
  useTitle('Live');
  const [state, dispatch] = useReducer(liveReducer, undefined, initialLiveState);
  const [filter, setFilter] = useState('');
  const connection = useConnection();
  // Attempts can arrive hundreds a second: they are applied in batches, a few times a second.
  const incoming = useRef<LiveAttempt[]>([]);
  useLiveSubscription(AttemptRecordedSubscription, {}, (data) => {
    incoming.current.push(data.deliveryAttemptRecorded);
  });
  useEffect(() => {
    const timer = setInterval(() => {
      if (incoming.current.length === 0) return;
      const attempts = incoming.current;
      incoming.current = [];
      dispatch({ type: 'attempts', attempts });
    }, 250);
    return () => clearInterval(timer);
  }, []);
  // What happened just before the page was opened, for context (not in the counts).
  const [recentResult] = useQuery({ query: RecentAttemptsQuery, variables: { first: 30 }, requestPolicy: 'network-only' });
  const recent = (recentResult.data?.deliveryAttempts.edges ?? [])
    .map((edge) => edge.node)
    .filter((attempt) => !state.seen.has(attempt.id) && matchesLiveFilter(attempt, filter));
  const visible = state.shown.filter((attempt) => matchesLiveFilter(attempt, filter));
  const total = state.succeeded + state.failed;

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1 tabIndex={-1}>Live</h1>
          <p className="subtle">Every delivery attempt, of every subscription, as it happens. Counts are since this page was opened.</p>
        </div>
      </header>
      <section className="card live-controls" aria-label="Stream controls">
        <dl className="stats compact">
          <div>
            <dt>Succeeded</dt>
            <dd className="tone-text-success" data-testid="live-succeeded">
              {formatCount(state.succeeded)}
            </dd>
          </div>
          <div>
            <dt>Failed</dt>
            <dd className="tone-text-danger" data-testid="live-failed">
              {formatCount(state.failed)}
            </dd>
          </div>
          <div>
            <dt>Success</dt>
            <dd>{formatPercent(total === 0 ? null : state.succeeded / total)}</dd>
          </div>
        </dl>
        <div className="live-tools">
          <label className="inline-field grow">
            <span>Filter</span>
            <input
              type="search"
              data-testid="live-filter"
              value={filter}
              onChange={(event) => setFilter(event.target.value)}
              placeholder="event type, subscription, status code…"
              autoComplete="off"
              spellCheck={false}
            />
          </label>
          <button
            type="button"
            className={`button ${state.paused ? 'primary' : ''}`}
            data-testid="live-toggle"
            aria-pressed={state.paused}
            onClick={() => dispatch({ type: state.paused ? 'resume' : 'pause' })}
          >
            {state.paused ? `Resume${state.held.length > 0 ? ` (${formatCount(state.held.length)} new)` : ''}` : 'Pause'}
          </button>
          <button type="button" className="button" onClick={() => dispatch({ type: 'clear' })} disabled={state.shown.length === 0 && state.held.length === 0}>
            Clear
          </button>
        </div>
      </section>
      <section className="card flush" aria-label="Attempts">
        {state.paused ? (
          <p className="notice warning" role="status">
            Paused: new attempts are counted and held{state.held.length > 0 ? ` (${formatCount(state.held.length)} so far)` : ''}; resume to show them.
          </p>
        ) : null}
        <ol className="feed live-feed" data-testid="live-feed">
          {visible.length === 0 ? (
            <li className="row-empty">
              {state.shown.length > 0
                ? 'No attempt since the page was opened matches the filter.'
                : connection.state === 'live'
                  ? 'Waiting for attempts… send an event to any subscription to see it here.'
                  : 'Connecting…'}
            </li>
          ) : null}
          {visible.map((attempt) => (
            <li key={attempt.id} className="feed-item" data-testid="live-attempt">
              <AttemptLine attempt={attempt} showSubscription />
            </li>
          ))}
        </ol>
        {recent.length > 0 ? (
          <>
            <h2 className="feed-divider">Before this page was opened</h2>
            <ol className="feed live-feed earlier" data-testid="earlier-feed">
              {recent.map((attempt) => (
                <li key={attempt.id} className="feed-item">
                  <AttemptLine attempt={attempt} showSubscription />
                </li>
              ))}
            </ol>
          </>
        ) : null}
        {state.shown.length >= LIVE_LIMIT ? <p className="subtle small pad">Showing the latest {LIVE_LIMIT}.</p> : null}
      </section>
    </div>
  );
}
