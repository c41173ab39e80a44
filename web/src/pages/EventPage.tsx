import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { AttemptRecordedSubscription, EventQuery, EventUpdatedSubscription, RedeliverEventMutation, type EventDetailData } from '../documents.ts';
import { CopyButton } from '../components/CopyButton.tsx';
import { Countdown, StatusBadge } from '../components/StatusBadge.tsx';
import { TimeAgo } from '../components/TimeAgo.tsx';
import { useLiveSubscription, useOnReconnect, useTitle } from '../hooks.ts';
import { formatDateTime, formatDuration, shortId } from '../lib/format.ts';
import { headersToText, isSignatureHeader, sortHeaders } from '../lib/headers.ts';
import { attemptErrorText, attemptOutcome, canRedeliver, eventStatusMeaning } from '../lib/status.ts';
import { Link, paths } from '../router.tsx';

export function EventPage({ id }: { id: string }) {
  const [result, reexecute] = useQuery({ query: EventQuery, variables: { id } });
  const event = result.data?.event;
  useTitle(event ? `Event ${shortId(event.id)}` : 'Event');
  useOnReconnect(() => reexecute({ requestPolicy: 'network-only' }));
  // Status changes land in the cache; a new attempt makes the cached attempt list stale, so it is refetched.
  useLiveSubscription(EventUpdatedSubscription, { id }, () => undefined);
  useLiveSubscription(AttemptRecordedSubscription, { eventId: id }, () => undefined);

  if (!event) {
    if (result.fetching || (!result.data && !result.error)) return <p className="page subtle">Loading…</p>;
    return (
      <div className="page">
        <h1 tabIndex={-1}>Event not found</h1>
        <p>
          {result.error ? `Could not load it: ${result.error.message}` : <>No event has the id <code className="mono">{id}</code>. Attempts and events go when their subscription is deleted.</>}
        </p>
        <p>
          <Link href={paths.subscriptions()}>All subscriptions</Link>
        </p>
      </div>
    );
  }

  const attempts = [...event.attempts].sort((a, b) => a.attemptNumber - b.attemptNumber);
  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link href={paths.subscriptions()}>Subscriptions</Link> <span aria-hidden="true">/</span>{' '}
        <Link href={paths.subscription(event.subscription.id)}>{event.subscription.name || shortId(event.subscription.id)}</Link> <span aria-hidden="true">/</span>
      </nav>
      <header className="page-header">
        <div className="page-heading">
          <h1 tabIndex={-1}>
            <span className="mono">{event.eventType ?? 'untyped event'}</span> <StatusBadge status={event.status} nextAttemptAt={event.nextAttemptAt} />
          </h1>
          <p className="subtle">{eventStatusMeaning(event.status)}</p>
        </div>
        <Redeliver event={event} />
      </header>

      <section className="card">
        <dl className="facts">
          <div>
            <dt>Event id</dt>
            <dd className="mono">
              {event.id} <CopyButton text={event.id} label="Copy" className="button tiny" />
            </dd>
          </div>
          <div>
            <dt>Subscription</dt>
            <dd>
              <Link href={paths.subscription(event.subscription.id)}>{event.subscription.name || event.subscription.id}</Link>{' '}
              <span className="mono subtle">{event.subscription.targetUrl}</span>
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              {formatDateTime(event.createdAt)} <span className="subtle">(<TimeAgo iso={event.createdAt} />)</span>
            </dd>
          </div>
          <div>
            <dt>Attempts</dt>
            <dd>{event.attemptCount}</dd>
          </div>
          {event.deliveredAt ? (
            <div>
              <dt>Delivered</dt>
              <dd>{formatDateTime(event.deliveredAt)}</dd>
            </div>
          ) : null}
          {event.nextAttemptAt && event.status === 'RETRYING' ? (
            <div>
              <dt>Next attempt</dt>
              <dd>
                {formatDateTime(event.nextAttemptAt)} <Countdown to={event.nextAttemptAt} prefix="" />
              </dd>
            </div>
          ) : null}
          {event.idempotencyKey ? (
            <div>
              <dt>Idempotency key</dt>
              <dd className="mono">{event.idempotencyKey}</dd>
            </div>
          ) : null}
        </dl>
      </section>

      <div className="columns">
        <section className="card column-main flush" aria-labelledby="attempts-heading">
          <div className="card-header">
            <h2 id="attempts-heading" className="card-title">
              Attempts <span className="subtle">in order</span>
            </h2>
          </div>
          {attempts.length === 0 ? (
            <p className="row-empty">{event.status === 'FILTERED' ? 'Filtered events are never sent.' : 'No attempt yet.'}</p>
          ) : (
            <ol className="timeline">
              {attempts.map((attempt) => (
                <AttemptItem key={attempt.id} attempt={attempt} isLatest={attempt === attempts.at(-1)} eventStatus={event.status} />
              ))}
            </ol>
          )}
        </section>
        <section className="card column-side" aria-labelledby="payload-heading">
          <div className="card-header plain">
            <h2 id="payload-heading" className="card-title">
              Payload
            </h2>
            <CopyButton text={JSON.stringify(event.payload, null, 2)} label="Copy JSON" />
          </div>
          <pre className="code" data-testid="event-payload" tabIndex={0}>
            {JSON.stringify(event.payload, null, 2)}
          </pre>
        </section>
      </div>
    </div>
  );
}

type Attempt = EventDetailData['attempts'][number];

function AttemptItem({ attempt, isLatest, eventStatus }: { attempt: Attempt; isLatest: boolean; eventStatus: string }) {
  const headers = sortHeaders(attempt.requestHeaders);
  return (
    <li className={`timeline-item ${attempt.success ? 'ok' : 'bad'}`} data-testid="attempt-row" data-attempt-number={attempt.attemptNumber}>
      <div className="timeline-head">
        <span className={`outcome tone-${attempt.success ? 'success' : 'danger'}`}>
          {attempt.success ? '✓' : '✕'} <span className="mono">{attemptOutcome(attempt)}</span>
        </span>
        <span className="attempt-number">Attempt {attempt.attemptNumber}</span>
        <span className="subtle">
          <time dateTime={attempt.attemptedAt} title={attempt.attemptedAt}>
            {formatDateTime(attempt.attemptedAt)}
          </time>
        </span>
        <span className="subtle">{formatDuration(attempt.durationMs)}</span>
      </div>
      {attemptErrorText(attempt) ? <p className="attempt-error">{attemptErrorText(attempt)}</p> : null}
      {attempt.nextAttemptAt ? (
        <p className="subtle small">
          {isLatest && eventStatus === 'RETRYING' ? (
            <>
              Next try due {formatDateTime(attempt.nextAttemptAt)} <Countdown to={attempt.nextAttemptAt} prefix="" />
            </>
          ) : (
            <>Next try was scheduled for {formatDateTime(attempt.nextAttemptAt)}</>
          )}
        </p>
      ) : isLatest && !attempt.success && eventStatus === 'FAILED' ? (
        <p className="subtle small">No further try: the event is FAILED. Redeliver to start a new series.</p>
      ) : null}
      <details className="disclosure">
        <summary>Request headers ({headers.length})</summary>
        {headers.length === 0 ? (
          <p className="subtle small">Not recorded for this attempt.</p>
        ) : (
          <>
            <table className="headers">
              <tbody>
                {headers.map((header, index) => (
                  <tr key={`${header.name}-${index}`} className={isSignatureHeader(header.name) ? 'signature' : undefined}>
                    <th scope="row" className="mono">
                      {header.name}
                    </th>
                    <td className="mono">{header.value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <CopyButton text={headersToText(headers)} label="Copy headers" />
          </>
        )}
      </details>
      <details className="disclosure">
        <summary>Response body{attempt.responseBody ? ` (${attempt.responseBody.length} characters)` : ' (empty)'}</summary>
        {attempt.responseBody ? (
          <pre className="code small" tabIndex={0}>
            {attempt.responseBody}
          </pre>
        ) : (
          <p className="subtle small">No body was received.</p>
        )}
      </details>
    </li>
  );
}

function Redeliver({ event }: { event: EventDetailData }) {
  const [state, redeliver] = useMutation(RedeliverEventMutation);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const allowed = canRedeliver(event.status);
  return (
    <div className="actions redeliver">
      <button
        type="button"
        className="button primary"
        data-testid="redeliver"
        disabled={state.fetching || !allowed}
        title={allowed ? 'Send it again as a new series of attempts' : 'Only delivered or failed events can be redelivered'}
        onClick={() =>
          void redeliver({ id: event.id }).then((result) => {
            const data = result.data?.redeliverEvent;
            if (result.error) setMessage({ ok: false, text: result.error.message });
            else if (data?.__typename === 'Event') setMessage({ ok: true, text: 'Queued for redelivery' });
            else if (data) setMessage({ ok: false, text: data.__typename === 'ValidationError' ? (data.fieldErrors[0]?.message ?? data.message) : data.message });
          })
        }
      >
        {state.fetching ? 'Redelivering…' : 'Redeliver'}
      </button>
      <span aria-live="polite" className={message && !message.ok ? 'field-error' : 'subtle'}>
        {message?.text}
      </span>
    </div>
  );
}
