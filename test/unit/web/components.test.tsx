// Components rendered to static HTML with react-dom/server: no DOM needed.
import type { ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { Client, Provider } from 'urql';
import { describe, expect, it } from 'vitest';
import { AttemptLine } from '../../../web/src/components/AttemptLine.tsx';
import { DeliveriesChart, LatencyChart } from '../../../web/src/components/Charts.tsx';
import { ConnectionIndicator } from '../../../web/src/components/ConnectionIndicator.tsx';
import { maskSecret, SecretField } from '../../../web/src/components/SecretField.tsx';
import { Countdown, StatusBadge, SubscriptionStatusPill } from '../../../web/src/components/StatusBadge.tsx';
import { SubscriptionForm } from '../../../web/src/components/SubscriptionForm.tsx';
import { TestEventForm } from '../../../web/src/components/TestEventForm.tsx';
import { SignInPage } from '../../../web/src/pages/SignInPage.tsx';

const NOW = Date.parse('2025-01-01T12:00:00Z');
const inSeconds = (seconds: number) => new Date(NOW + seconds * 1000).toISOString();
const render = (element: ReactElement) => renderToStaticMarkup(element);
/** The text of the element carrying `data-testid`. */
function testIdText(html: string, testId: string): string | null {
  const match = new RegExp(`data-testid="${testId}"[^>]*>([^<]*)<`).exec(html);
  return match ? match[1]! : null;
}

describe('StatusBadge', () => {
  it('shows the status as the badge text, coloured by tone', () => {
    const html = render(<StatusBadge status="DELIVERED" now={NOW} />);
    expect(testIdText(html, 'status-badge')).toBe('DELIVERED');
    expect(html).toContain('tone-success');
    expect(html).not.toContain('countdown');
  });

  it('counts down to the next attempt when RETRYING', () => {
    const html = render(<StatusBadge status="RETRYING" nextAttemptAt={inSeconds(83)} now={NOW} />);
    expect(testIdText(html, 'status-badge')).toBe('RETRYING');
    expect(html).toContain('tone-warning');
    expect(html).toContain('next try in 1m 23s');
  });

  it('says the retry is due once its time has passed', () => {
    expect(render(<StatusBadge status="RETRYING" nextAttemptAt={inSeconds(-2)} now={NOW} />)).toContain('next try due now');
  });

  it('shows no countdown for other statuses even with a next attempt time', () => {
    expect(render(<StatusBadge status="FAILED" nextAttemptAt={inSeconds(30)} now={NOW} />)).not.toContain('countdown');
  });

  it.each(['PENDING', 'DELIVERING', 'FILTERED'])('renders %s', (status) => {
    expect(testIdText(render(<StatusBadge status={status} now={NOW} />), 'status-badge')).toBe(status);
  });
});

describe('Countdown', () => {
  it('can go without a prefix', () => {
    expect(render(<Countdown to={inSeconds(5)} now={NOW} prefix="" />)).toContain('>in 5s<');
  });
});

describe('SubscriptionStatusPill and ConnectionIndicator', () => {
  it('show their state', () => {
    expect(render(<SubscriptionStatusPill status="PAUSED" />)).toContain('>paused<');
    expect(testIdText(render(<ConnectionIndicator state="live" />), 'connection-status')).toBe('live');
    expect(testIdText(render(<ConnectionIndicator state="reconnecting" />), 'connection-status')).toBe('reconnecting');
  });
});

describe('SecretField', () => {
  it('masks the secret until revealed, keeping its whsec_ prefix', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const html = render(<SecretField secret={secret} />);
    expect(html).not.toContain(secret);
    expect(testIdText(html, 'secret-value')).toBe(maskSecret(secret));
    expect(maskSecret(secret)).toMatch(/^whsec_•+$/);
    expect(html).toContain('data-testid="reveal-secret"');
    expect(html).toContain('data-testid="copy-secret"');
  });
});

describe('AttemptLine', () => {
  const attempt = {
    id: 'a1',
    attemptNumber: 3,
    attemptedAt: '2025-01-01T12:00:00Z',
    durationMs: 87,
    success: false,
    responseStatus: 503,
    error: 'HTTP 503',
    event: { id: 'e1', eventType: 'invoice.paid', status: 'RETRYING' },
    subscription: { id: 's1', name: 'billing' },
  };

  it('links the event and, when asked, the subscription', () => {
    const html = render(<AttemptLine attempt={attempt} showSubscription />);
    expect(html).toContain('href="/events/e1"');
    expect(html).toContain('href="/subscriptions/s1"');
    expect(html).toContain('>503<');
    expect(html).toContain('87 ms');
    expect(render(<AttemptLine attempt={attempt} showSubscription={false} />)).not.toContain('/subscriptions/s1');
  });
});

describe('charts', () => {
  const buckets = [
    { minute: '2025-01-01T11:58:00Z', succeeded: 4, failed: 1, p50DurationMs: 40, p95DurationMs: 120 },
    { minute: '2025-01-01T11:59:00Z', succeeded: 0, failed: 0, p50DurationMs: null, p95DurationMs: null },
    { minute: '2025-01-01T12:00:00Z', succeeded: 2, failed: 0, p50DurationMs: 35, p95DurationMs: 60 },
  ];

  it('draws one stacked bar per minute with attempts', () => {
    const html = render(<DeliveriesChart buckets={buckets} width={400} />);
    expect(html.match(/class="bar-success"/g)).toHaveLength(2);
    expect(html).toContain('aria-label="6 succeeded and 1 failed attempts in the last hour"');
  });

  it('draws p50 and p95 lines, broken at empty minutes', () => {
    const html = render(<LatencyChart buckets={buckets} width={400} />);
    expect(html.match(/class="line-p95"/g)).toHaveLength(2);
    expect(html.match(/class="line-p50"/g)).toHaveLength(2);
  });

  it('says when there is nothing to draw', () => {
    const empty = buckets.map((bucket) => ({ ...bucket, succeeded: 0, failed: 0, p50DurationMs: null, p95DurationMs: null }));
    expect(render(<DeliveriesChart buckets={empty} width={400} />)).toContain('No deliveries in the last hour');
    expect(render(<LatencyChart buckets={empty} width={400} />)).toContain('No attempts in the last hour');
  });
});

describe('forms', () => {
  const client = new Client({ url: 'http://localhost/graphql', exchanges: [] });

  it('labels every create-subscription field and gives it a test handle', () => {
    const html = render(<SubscriptionForm mode="create" onSubmit={async () => ({ ok: true })} />);
    for (const field of ['name', 'targetUrl', 'eventTypes', 'submit']) expect(html).toContain(`data-testid="create-${field}"`);
    for (const label of ['Name', 'Target URL', 'Event types']) expect(html).toContain(`>${label}</span>`);
    // Each input is inside its <label>, so it is named by it.
    expect(html).toMatch(/<label[^>]*><span class="field-label">Target URL<\/span><input[^>]*name="targetUrl"/);
  });

  it('prefills the edit form and offers the status', () => {
    const html = render(
      <SubscriptionForm mode="edit" initial={{ name: 'orders', targetUrl: 'https://x.test/h', eventTypes: ['a', 'b.*'], status: 'PAUSED' }} onSubmit={async () => ({ ok: true })} />,
    );
    expect(html).toContain('value="a, b.*"');
    expect(html).toContain('data-testid="edit-status"');
    expect(html).toMatch(/<option value="PAUSED" selected="">paused<\/option>/);
  });

  it('offers the test-event form with a valid JSON payload prefilled', () => {
    const html = render(
      <Provider value={client}>
        <TestEventForm subscriptionId="s1" eventTypes={['order.*']} />
      </Provider>,
    );
    for (const field of ['test-event-type', 'test-event-payload', 'test-event-submit']) expect(html).toContain(`data-testid="${field}"`);
    expect(html).toContain('value="order.test"');
    const payload = /<textarea[^>]*>([\s\S]*?)<\/textarea>/.exec(html)![1]!.replace(/&quot;/g, '"');
    expect(() => JSON.parse(payload)).not.toThrow();
  });

  it('asks for a token on the sign-in page', () => {
    const html = render(<SignInPage reason="The stored token is no longer accepted." onSubmit={async () => null} />);
    expect(html).toContain('data-testid="signin-token"');
    expect(html).toContain('type="password"');
    expect(html).toContain('data-testid="signin-submit"');
    expect(html).toContain('The stored token is no longer accepted.');
  });
});
