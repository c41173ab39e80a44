import { useCallback, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { CreateSubscriptionMutation, OverviewQuery, SubscriptionsQuery, AttemptRecordedSubscription, type SubscriptionRowData } from '../documents.ts';
import { EditSubscriptionForm, SubscriptionForm } from '../components/SubscriptionForm.tsx';
import { SubscriptionActions } from '../components/SubscriptionActions.tsx';
import { SecretField } from '../components/SecretField.tsx';
import { StatsSummary } from '../components/StatsSummary.tsx';
import { SubscriptionStatusPill } from '../components/StatusBadge.tsx';
import { TimeAgo } from '../components/TimeAgo.tsx';
import { outcomeOf } from '../components/mutations.ts';
import { useInterval, useLiveSubscription, useOnReconnect, useRefresh, useCoalescedCallback, useTitle } from '../hooks.ts';
import { formatCount, formatDuration, formatPercent } from '../lib/format.ts';
import { attemptOutcome } from '../lib/status.ts';
import { Link, paths } from '../router.tsx';

const PAGE_SIZE = 50;
const REFRESH_MS = 15_000;

export function SubscriptionsPage() {
  useTitle('Subscriptions');
  const [created, setCreated] = useState<{ id: string; name: string; secret: string } | null>(null);
  const [, create] = useMutation(CreateSubscriptionMutation);
  // Bumped to refetch every loaded page: on a timer, after attempts, after a reconnect.
  const [refresh, setRefresh] = useState(0);
  const bump = useCallback(() => setRefresh((n) => n + 1), []);
  const bumpSoon = useCoalescedCallback(bump, 1_000, 5_000);
  useInterval(bump, REFRESH_MS);
  useOnReconnect(bump);
  // Each attempt updates its subscription's "last delivery" in the cache at once; the 24 h
  // rate is recomputed by the server on the next refresh.
  useLiveSubscription(AttemptRecordedSubscription, {}, bumpSoon);

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1 tabIndex={-1}>Subscriptions</h1>
          <p className="subtle">Where events go. Success rates are over the last 24 hours.</p>
        </div>
      </header>

      <Overview refresh={refresh} />

      <section className="card" aria-labelledby="create-heading">
        <h2 id="create-heading" className="card-title">
          New subscription
        </h2>
        <SubscriptionForm
          mode="create"
          onSubmit={async (values) => {
            const result = await create({ input: { name: values.name || null, targetUrl: values.targetUrl, eventTypes: values.eventTypes } });
            const data = result.data?.createWebhookSubscription;
            const outcome = outcomeOf(data, result.error, 'WebhookSubscription');
            if (data?.__typename === 'WebhookSubscription') setCreated({ id: data.id, name: data.name, secret: data.secret });
            return outcome;
          }}
        />
        {created ? (
          <div className="notice success" role="status" data-testid="created-secret">
            <p>
              Created <Link href={paths.subscription(created.id)}>{created.name || created.id}</Link>. Its signing secret is shown here once: keep it
              where the receiver verifies signatures.
            </p>
            <SecretField secret={created.secret} />
            <button type="button" className="button small" onClick={() => setCreated(null)}>
              Dismiss
            </button>
          </div>
        ) : null}
      </section>

      <section className="card flush" aria-label="All subscriptions">
        <div className="list-head sub-grid" aria-hidden="true">
          <span>Subscription</span>
          <span>Status</span>
          <span>Event types</span>
          <span>Last delivery</span>
          <span>Success (24 h)</span>
          <span />
        </div>
        <ul className="rows">
          <SubscriptionRows after={null} refresh={refresh} />
        </ul>
      </section>
    </div>
  );
}

/** Every subscription together, over the last 24 hours. */
function Overview({ refresh }: { refresh: number }) {
  const [result, reexecute] = useQuery({ query: OverviewQuery });
  useRefresh(refresh, reexecute);
  const stats = result.data?.deliveryStats;
  if (!stats) return null;
  return (
    <section className="card" aria-label="All deliveries, last 24 hours">
      <StatsSummary stats={stats} className="stats overview" warnBelow={0.9} />
    </section>
  );
}

/** One page of subscriptions; "Load more" renders the next page after it. */
function SubscriptionRows({ after, refresh }: { after: string | null; refresh: number }) {
  const [result, reexecute] = useQuery({ query: SubscriptionsQuery, variables: { first: PAGE_SIZE, after } });
  const [showNext, setShowNext] = useState(false);
  useRefresh(refresh, reexecute);
  const connection = result.data?.webhookSubscriptions;
  if (!connection) {
    return (
      <li className="row-empty">
        {result.error ? <span className="field-error">Could not load subscriptions: {result.error.message}</span> : 'Loading…'}
      </li>
    );
  }
  const rows = connection.edges.map((edge) => edge.node);
  return (
    <>
      {rows.length === 0 && after === null ? <li className="row-empty">No subscriptions yet. Create one above to start receiving events.</li> : null}
      {rows.map((subscription) => (
        <SubscriptionRow key={subscription.id} subscription={subscription} />
      ))}
      {connection.pageInfo.hasNextPage && connection.pageInfo.endCursor ? (
        showNext ? (
          <SubscriptionRows after={connection.pageInfo.endCursor} refresh={refresh} />
        ) : (
          <li className="row-more">
            <button type="button" className="button" data-testid="load-more" onClick={() => setShowNext(true)}>
              Load more
            </button>
          </li>
        )
      ) : null}
    </>
  );
}

function SubscriptionRow({ subscription }: { subscription: SubscriptionRowData }) {
  const [editing, setEditing] = useState(false);
  const last = subscription.lastAttempt;
  const stats = subscription.stats;
  return (
    <li className="row-item" data-testid="subscription-row" data-subscription-id={subscription.id}>
      <div className="sub-grid">
        <span className="cell-main">
          <Link href={paths.subscription(subscription.id)} className="row-link" data-testid="subscription-link">
            {subscription.name || <span className="mono">{subscription.id}</span>}
          </Link>
          <span className="mono subtle target" title={subscription.targetUrl}>
            {subscription.targetUrl}
          </span>
        </span>
        <span className="cell-status">
          <SubscriptionStatusPill status={subscription.status} />
        </span>
        <span className="cell-types">
          <EventTypeList eventTypes={subscription.eventTypes} />
        </span>
        <span className="cell-last">
          <span className="cell-label">Last delivery</span>
          {last ? (
            <Link href={paths.event(last.event.id)} className={`last-attempt ${last.success ? 'ok' : 'bad'}`} title={last.error ?? undefined}>
              <span className={`dot ${last.success ? 'tone-success' : 'tone-danger'}`} aria-hidden="true" />
              <span className="mono">{attemptOutcome(last)}</span>
              <span className="subtle">{formatDuration(last.durationMs)}</span>
              <TimeAgo iso={last.attemptedAt} />
            </Link>
          ) : (
            <span className="subtle">never</span>
          )}
        </span>
        <span className="cell-rate">
          <span className="cell-label">Success (24 h)</span>
          <SuccessRate rate={stats.successRate} attempts={stats.attempts} />
        </span>
        <span className="cell-actions">
          <SubscriptionActions subscription={subscription} editing={editing} onEdit={() => setEditing((value) => !value)} />
        </span>
      </div>
      {editing ? (
        <div className="row-edit">
          <EditSubscriptionForm subscription={subscription} onDone={() => setEditing(false)} />
        </div>
      ) : null}
    </li>
  );
}

export function EventTypeList({ eventTypes }: { eventTypes: readonly string[] }) {
  if (eventTypes.length === 0) return <span className="subtle">all events</span>;
  return (
    <span className="chips">
      {eventTypes.map((type) => (
        <code key={type} className="chip mono">
          {type}
        </code>
      ))}
    </span>
  );
}

export function SuccessRate({ rate, attempts }: { rate: number | null; attempts: number }) {
  if (rate == null) return <span className="subtle">no attempts</span>;
  const tone = rate >= 0.99 ? 'success' : rate >= 0.9 ? 'warning' : 'danger';
  return (
    <span className="rate" title={`${formatCount(attempts)} attempts in the last 24 hours`}>
      <span className={`rate-value tone-text-${tone}`}>{formatPercent(rate)}</span>
      <span className="meter" aria-hidden="true">
        <span className={`meter-fill tone-${tone}`} style={{ width: `${Math.round(rate * 100)}%` }} />
      </span>
      <span className="subtle">of {formatCount(attempts)}</span>
    </span>
  );
}
