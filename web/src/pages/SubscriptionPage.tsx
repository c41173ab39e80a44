import { useCallback, useState } from 'react';
import { useQuery } from 'urql';
import {
  AttemptRecordedSubscription,
  EventsUpdatedSubscription,
  SubscriptionAttemptsQuery,
  SubscriptionEventsQuery,
  SubscriptionMetricsQuery,
  SubscriptionQuery,
  type LiveAttemptData,
} from '../documents.ts';
import { DeliveriesChart, LatencyChart } from '../components/Charts.tsx';
import { SecretField } from '../components/SecretField.tsx';
import { StatusBadge, SubscriptionStatusPill } from '../components/StatusBadge.tsx';
import { SubscriptionActions } from '../components/SubscriptionActions.tsx';
import { EditSubscriptionForm } from '../components/SubscriptionForm.tsx';
import { TestEventForm } from '../components/TestEventForm.tsx';
import { StatsSummary } from '../components/StatsSummary.tsx';
import { TimeAgo } from '../components/TimeAgo.tsx';
import { AttemptLine } from '../components/AttemptLine.tsx';
import { useInterval, useLiveSubscription, useOnReconnect, useRefresh, useCoalescedCallback, useTitle } from '../hooks.ts';
import { formatCount, shortId } from '../lib/format.ts';
import { EVENT_STATUSES, isEventStatus, type EventStatus } from '../lib/status.ts';
import { Link, navigate, paths, useSearchParam } from '../router.tsx';
import { EventTypeList } from './SubscriptionsPage.tsx';

const EVENTS_PAGE_SIZE = 25;
const FEED_SIZE = 30;
const REFRESH_MS = 15_000;

export function SubscriptionPage({ id }: { id: string }) {
  const [result, reexecute] = useQuery({ query: SubscriptionQuery, variables: { id } });
  const [editing, setEditing] = useState(false);
  const subscription = result.data?.webhookSubscription;
  useTitle(subscription ? subscription.name || shortId(subscription.id) : 'Subscription');
  useOnReconnect(() => reexecute({ requestPolicy: 'network-only' }));

  // The statistics refetch on a timer, soon after attempts, and after a reconnect; the events
  // list follows the live updates and is refetched on the timer and after a reconnect only.
  const [refresh, setRefresh] = useState({ metrics: 0, events: 0 });
  const bumpAll = useCallback(() => setRefresh((n) => ({ metrics: n.metrics + 1, events: n.events + 1 })), []);
  const bumpMetrics = useCallback(() => setRefresh((n) => ({ ...n, metrics: n.metrics + 1 })), []);
  const bumpSoon = useCoalescedCallback(bumpMetrics, 400, 2_000);
  useInterval(bumpAll, REFRESH_MS);
  useOnReconnect(bumpAll);
  // Status changes update rows in place through the cache; new events invalidate the first
  // page. Either changes the counts per status.
  useLiveSubscription(EventsUpdatedSubscription, { subscriptionId: id }, bumpSoon);

  if (!subscription) {
    if (result.fetching || (!result.data && !result.error)) return <p className="page subtle">Loading…</p>;
    return (
      <div className="page">
        <h1 tabIndex={-1}>Subscription not found</h1>
        <p>
          {result.error ? `Could not load it: ${result.error.message}` : <>No subscription has the id <code className="mono">{id}</code>; it may have been deleted.</>}
        </p>
        <p>
          <Link href={paths.subscriptions()}>All subscriptions</Link>
        </p>
      </div>
    );
  }

  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link href={paths.subscriptions()}>Subscriptions</Link> <span aria-hidden="true">/</span>
      </nav>
      <header className="page-header">
        <div className="page-heading">
          <h1 tabIndex={-1}>
            {subscription.name || <span className="mono">{shortId(subscription.id)}</span>} <SubscriptionStatusPill status={subscription.status} />
          </h1>
          <p className="mono target-line" title="Target URL">
            POST {subscription.targetUrl}
          </p>
          <p className="meta">
            <EventTypeList eventTypes={subscription.eventTypes} />
            <span className="subtle">
              id <span className="mono">{subscription.id}</span>
            </span>
            <span className="subtle">
              created <TimeAgo iso={subscription.createdAt} />
            </span>
          </p>
        </div>
        <SubscriptionActions subscription={subscription} editing={editing} onEdit={() => setEditing((value) => !value)} onDeleted={() => navigate(paths.subscriptions())} />
      </header>

      {editing ? (
        <section className="card" aria-label="Edit subscription">
          <EditSubscriptionForm subscription={subscription} onDone={() => setEditing(false)} />
        </section>
      ) : null}

      <Metrics id={id} refresh={refresh.metrics} />

      <div className="columns">
        <div className="column-main">
          <EventsSection id={id} refresh={refresh.events} />
        </div>
        <aside className="column-side">
          <section className="card" aria-labelledby="test-heading">
            <h2 id="test-heading" className="card-title">
              Send a test event
            </h2>
            <TestEventForm subscriptionId={subscription.id} eventTypes={subscription.eventTypes} />
          </section>
          <AttemptsFeed id={id} onAttempt={bumpSoon} />
          <section className="card" aria-label="Signing secret">
            <SecretField secret={subscription.secret} />
          </section>
        </aside>
      </div>
    </div>
  );
}

function Metrics({ id, refresh }: { id: string; refresh: number }) {
  const [result, reexecute] = useQuery({ query: SubscriptionMetricsQuery, variables: { id } });
  useRefresh(refresh, reexecute);
  const metrics = result.data?.webhookSubscription;
  if (!metrics) return <section className="card subtle">{result.error ? `Could not load the statistics: ${result.error.message}` : 'Loading statistics…'}</section>;
  const { stats, timeline } = metrics;
  return (
    <section className="card metrics" aria-label="Delivery statistics">
      <StatsSummary stats={stats} />
      <div className="charts">
        <DeliveriesChart buckets={timeline} />
        <LatencyChart buckets={timeline} />
      </div>
    </section>
  );
}

function EventsSection({ id, refresh }: { id: string; refresh: number }) {
  const [statusParam, setStatusParam] = useSearchParam('status');
  const status: EventStatus | null = isEventStatus(statusParam) ? statusParam : null;
  const [countsResult] = useQuery({ query: SubscriptionMetricsQuery, variables: { id } });
  const counts = new Map((countsResult.data?.webhookSubscription?.eventCounts ?? []).map((entry) => [entry.status, entry.count]));
  const total = [...counts.values()].reduce((sum, n) => sum + n, 0);
  return (
    <section className="card flush" aria-labelledby="events-heading">
      <div className="card-header">
        <h2 id="events-heading" className="card-title">
          Events <span className="subtle">newest first</span>
        </h2>
      </div>
      <div className="status-chips" role="group" aria-label="Filter by status">
        <button type="button" className="chip-button" data-testid="status-filter-all" aria-pressed={status === null} onClick={() => setStatusParam(null)}>
          all <span className="count">{formatCount(total)}</span>
        </button>
        {EVENT_STATUSES.map((value) => (
          <button
            key={value}
            type="button"
            className={`chip-button tone-border-${value}`}
            data-testid={`status-filter-${value}`}
            aria-pressed={status === value} onClick={() => setStatusParam(status === value ? null : value)}>
            {value.toLowerCase()} <span className="count">{formatCount(counts.get(value) ?? 0)}</span>
          </button>
        ))}
      </div>
      <div className="list-head event-grid" aria-hidden="true">
        <span>Event</span>
        <span>Type</span>
        <span>Status</span>
        <span>Attempts</span>
        <span>Created</span>
      </div>
      <ul className="rows" key={status ?? 'all'}>
        <EventRows id={id} status={status} after={null} refresh={refresh} />
      </ul>
    </section>
  );
}

function EventRows({ id, status, after, refresh }: { id: string; status: EventStatus | null; after: string | null; refresh: number }) {
  const [result, reexecute] = useQuery({ query: SubscriptionEventsQuery, variables: { id, first: EVENTS_PAGE_SIZE, after, status } });
  const [showNext, setShowNext] = useState(false);
  useRefresh(refresh, reexecute);
  const connection = result.data?.webhookSubscription?.events;
  if (!connection) {
    return <li className="row-empty">{result.error ? <span className="field-error">Could not load events: {result.error.message}</span> : 'Loading…'}</li>;
  }
  const events = connection.edges.map((edge) => edge.node);
  return (
    <>
      {events.length === 0 && after === null ? (
        <li className="row-empty">{status ? `No ${status.toLowerCase()} events.` : 'No events yet. Send a test event to see one arrive.'}</li>
      ) : null}
      {events.map((event) => (
        <li key={event.id} className="row-item" data-testid="event-row" data-event-id={event.id} data-status={event.status}>
          <div className="event-grid">
            <span className="cell-main">
              <Link href={paths.event(event.id)} className="mono row-link" title={event.id}>
                {shortId(event.id)}
              </Link>
            </span>
            <span className="mono cell-type">{event.eventType ?? <span className="subtle">untyped</span>}</span>
            <span className="cell-status">
              <StatusBadge status={event.status} nextAttemptAt={event.nextAttemptAt} />
            </span>
            <span className="cell-attempts">
              <span className="cell-label">Attempts</span> {event.attemptCount}
            </span>
            <span className="cell-time subtle">
              <TimeAgo iso={event.createdAt} />
            </span>
          </div>
        </li>
      ))}
      {connection.pageInfo.hasNextPage && connection.pageInfo.endCursor ? (
        showNext ? (
          <EventRows id={id} status={status} after={connection.pageInfo.endCursor} refresh={refresh} />
        ) : (
          <li className="row-more">
            <button type="button" className="button" data-testid="load-more-events" onClick={() => setShowNext(true)}>
              Load more
            </button>
          </li>
        )
      ) : null}
    </>
  );
}

/** The subscription's recent attempts, newest first, with each new one added as it is recorded. */
function AttemptsFeed({ id, onAttempt }: { id: string; onAttempt: () => void }) {
  const [result, reexecute] = useQuery({ query: SubscriptionAttemptsQuery, variables: { id, first: FEED_SIZE } });
  const [live, setLive] = useState<LiveAttemptData[]>([]);
  useOnReconnect(() => reexecute({ requestPolicy: 'network-only' }));
  useLiveSubscription(AttemptRecordedSubscription, { subscriptionId: id }, (data) => {
    const attempt = data.deliveryAttemptRecorded;
    setLive((current) => (current.some((item) => item.id === attempt.id) ? current : [attempt, ...current].slice(0, FEED_SIZE)));
    onAttempt();
  });
  const loaded = result.data?.webhookSubscription?.attempts.edges.map((edge) => edge.node) ?? [];
  const seen = new Set(live.map((attempt) => attempt.id));
  const attempts = [...live, ...loaded.filter((attempt) => !seen.has(attempt.id))].slice(0, FEED_SIZE);
  return (
    <section className="card flush" aria-labelledby="feed-heading">
      <div className="card-header">
        <h2 id="feed-heading" className="card-title">
          Attempts <span className="subtle">live</span>
        </h2>
      </div>
      <ol className="feed" aria-live="polite" aria-relevant="additions" data-testid="attempt-feed">
        {attempts.length === 0 ? <li className="row-empty">{result.fetching ? 'Loading…' : 'No attempts yet.'}</li> : null}
        {attempts.map((attempt) => (
          <li key={attempt.id} className="feed-item" data-testid="feed-attempt">
            <AttemptLine attempt={attempt} showSubscription={false} />
          </li>
        ))}
      </ol>
    </section>
  );
}
