// Delivery end to end: signing, retries on the schedule, failure, timeouts, redirects, redelivery.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { createSubscription, gqlData, ingest, stack, waitForEventStatus, EVENT_FIELDS } from '../helpers/api.ts';
import { TestReceiver } from '../helpers/receiver.ts';

const receiver = TestReceiver.forFile();

const schedule = () => stack().env.RETRY_SCHEDULE!.split(',').map((part) => Number.parseInt(part, 10));
const maxAttempts = () => Number(stack().env.MAX_ATTEMPTS);
// Receivers with scripted answers filter by type, so other files' publishEvent fan-outs
// (which reach every catch-all subscription) cannot take an answer meant for this test.
const ONLY_OURS = ['delivery.*'];

describe('delivery', () => {
  it('delivers a signed POST that standardwebhooks verifies, and records the attempt', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/hooks/signed` });
    expect(subscription.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const payload = { order: { id: 42, items: ['a', 'b'] }, note: 'ünïcode ✓' };
    const event = await ingest({ subscriptionId: subscription.id, eventType: 'order.created', payload });
    expect(event.status).toBe('PENDING');

    const delivered = await waitForEventStatus(event.id, 'DELIVERED');
    const [request] = receiver.requestsFor(event.id);
    expect(request).toBeDefined();
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/hooks/signed');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toMatch(/^hookd\/\d+\.\d+\.\d+/);
    expect(request!.headers['webhook-id']).toBe(event.id);
    expect(Math.abs(Number(request!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(JSON.parse(request!.body)).toEqual(payload);
    const verified = new Webhook(subscription.secret).verify(request!.body, request!.headers as Record<string, string>);
    expect(verified).toEqual(payload);
    expect(() => new Webhook('whsec_' + Buffer.alloc(32, 1).toString('base64')).verify(request!.body, request!.headers as Record<string, string>)).toThrow();

    expect(delivered.attemptCount).toBe(1);
    expect(delivered.deliveredAt).not.toBeNull();
    expect(delivered.nextAttemptAt).toBeNull();
    expect(delivered.attempts).toHaveLength(1);
    expect(delivered.attempts[0]).toMatchObject({ attemptNumber: 1, success: true, responseStatus: 200, responseBody: 'ok', error: null, nextAttemptAt: null });
  });

  it('retries on the schedule after failures and then delivers: attempts 1-3, same webhook-id', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/hooks/flaky`, eventTypes: ONLY_OURS });
    receiver.script('/hooks/flaky', { status: 500, body: 'boom' }, { status: 502, body: 'bad gateway' });
    const event = await ingest({ subscriptionId: subscription.id, eventType: 'delivery.test', payload: { flaky: true } });
    const delivered = await waitForEventStatus(event.id, 'DELIVERED');
    const requests = receiver.requestsFor(event.id);
    expect(requests).toHaveLength(3);
    expect(delivered.attempts.map((a: any) => [a.attemptNumber, a.success, a.responseStatus])).toEqual([
      [1, false, 500],
      [2, false, 502],
      [3, true, 200],
    ]);
    expect(delivered.attempts[0].responseBody).toBe('boom');
    expect(delivered.attempts[0].error).toBe('HTTP 500');

    // Each failure scheduled the next try by the schedule (±20% jitter), and the worker kept to it.
    const [first, second] = schedule();
    const gaps = [requests[1]!.receivedAt - requests[0]!.receivedAt, requests[2]!.receivedAt - requests[1]!.receivedAt];
    expect(gaps[0]).toBeGreaterThanOrEqual(first! * 0.8 - 20);
    expect(gaps[1]).toBeGreaterThanOrEqual(second! * 0.8 - 20);
    expect(gaps[0]).toBeLessThan(first! * 1.2 + 2_000);
    expect(gaps[1]).toBeLessThan(second! * 1.2 + 2_000);
    for (const [index, delay] of [first!, second!].entries()) {
      const attempt = delivered.attempts[index];
      const scheduled = Date.parse(attempt.nextAttemptAt) - Date.parse(attempt.attemptedAt) - attempt.durationMs;
      expect(scheduled).toBeGreaterThanOrEqual(delay * 0.8 - 5);
      expect(scheduled).toBeLessThanOrEqual(delay * 1.2 + 50);
    }
    expect(new Set(requests.map((request) => request.headers['webhook-id']))).toEqual(new Set([event.id]));
  });

  it('ends FAILED after MAX_ATTEMPTS attempts when the receiver always fails', async () => {
    const failing = await TestReceiver.start();
    failing.fallback = { status: 503, body: 'down' };
    try {
      const subscription = await createSubscription({ targetUrl: `${failing.url}/always-fails` });
      const event = await ingest({ subscriptionId: subscription.id, payload: { doomed: true } });
      const failed = await waitForEventStatus(event.id, 'FAILED', 15_000);
      expect(failed.attemptCount).toBe(maxAttempts());
      expect(failed.attempts.map((a: any) => a.attemptNumber)).toEqual([1, 2, 3, 4].slice(0, maxAttempts()));
      expect(failed.attempts.every((a: any) => !a.success && a.responseStatus === 503)).toBe(true);
      // Every failure but the last scheduled a next try; the last scheduled none.
      expect(failed.attempts.slice(0, -1).every((a: any) => a.nextAttemptAt !== null)).toBe(true);
      expect(failed.attempts.at(-1).nextAttemptAt).toBeNull();
      expect(failed.nextAttemptAt).toBeNull();
      expect(failing.requestsFor(event.id)).toHaveLength(maxAttempts());
    } finally {
      await failing.close();
    }
  });

  it('fails an attempt that outlasts DELIVERY_TIMEOUT, then retries', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/slow`, eventTypes: ONLY_OURS });
    receiver.script('/slow', { status: 200, body: 'too late', delayMs: 3_000 });
    const event = await ingest({ subscriptionId: subscription.id, eventType: 'delivery.test', payload: { slow: true } });
    const delivered = await waitForEventStatus(event.id, 'DELIVERED', 15_000);
    expect(delivered.attempts[0]).toMatchObject({ attemptNumber: 1, success: false, responseStatus: null, error: 'timeout after 1000 ms' });
    expect(delivered.attempts[0].durationMs).toBeGreaterThanOrEqual(900);
    expect(delivered.attempts[0].durationMs).toBeLessThan(3_000);
    expect(delivered.attempts[1]).toMatchObject({ attemptNumber: 2, success: true });
  });

  it('does not follow redirects: a 3xx is a failed attempt', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/moved`, eventTypes: ONLY_OURS });
    receiver.script('/moved', { status: 301, headers: { location: `${receiver.url}/elsewhere` } });
    const event = await ingest({ subscriptionId: subscription.id, eventType: 'delivery.test', payload: { moved: true } });
    const delivered = await waitForEventStatus(event.id, 'DELIVERED');
    expect(delivered.attempts[0]).toMatchObject({ success: false, responseStatus: 301, error: 'redirect (301) not followed' });
    expect(receiver.requests.some((request) => request.path === '/elsewhere')).toBe(false);
  });

  it("keeps the first 4 KiB of a long answer sent in parts, and posts to the target URL's query too", async () => {
    const path = '/hooks/long?tenant=7&note=a%20b';
    const subscription = await createSubscription({ targetUrl: `${receiver.url}${path}`, eventTypes: ONLY_OURS });
    const body = 'a'.repeat(3_000) + 'b'.repeat(7_000);
    receiver.script(path, (response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write(body.slice(0, 2_000));
      setTimeout(() => response.end(body.slice(2_000)), 20);
    });
    const event = await ingest({ subscriptionId: subscription.id, eventType: 'delivery.test', payload: { long: true } });
    const delivered = await waitForEventStatus(event.id, 'DELIVERED');
    expect(receiver.requestsFor(event.id).map((request) => request.path)).toEqual([path]);
    expect(delivered.attempts[0]).toMatchObject({ success: true, responseStatus: 200, error: null });
    expect(delivered.attempts[0].responseBody).toBe(body.slice(0, 4_096));
  });

  it('records connection refused as an attempt error', async () => {
    const gone = await TestReceiver.start();
    const url = gone.url;
    await gone.close();
    const subscription = await createSubscription({ targetUrl: `${url}/nobody-home` });
    const event = await ingest({ subscriptionId: subscription.id, payload: { refused: true } });
    const failed = await waitForEventStatus(event.id, 'FAILED', 15_000);
    expect(failed.attempts[0].error).toBe('connection refused');
  });

  it('honours Retry-After on 429, capped at the longest scheduled delay', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/rate-limited`, eventTypes: ONLY_OURS });
    receiver.script('/rate-limited', { status: 429, headers: { 'retry-after': '3600' } });
    const event = await ingest({ subscriptionId: subscription.id, eventType: 'delivery.test', payload: { limited: true } });
    const delivered = await waitForEventStatus(event.id, 'DELIVERED');
    const attempt = delivered.attempts[0];
    const waited = Date.parse(attempt.nextAttemptAt) - Date.parse(attempt.attemptedAt) - attempt.durationMs;
    const longest = Math.max(...schedule());
    expect(waited).toBeGreaterThanOrEqual(longest - 5);
    expect(waited).toBeLessThanOrEqual(longest + 50);
  });

  it('redelivers a DELIVERED event as a new series; attempt numbers continue', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/redeliver` });
    const event = await ingest({ subscriptionId: subscription.id, payload: { again: true } });
    await waitForEventStatus(event.id, 'DELIVERED');
    const result = await gqlData(`mutation($id: ID!) { redeliverEvent(id: $id) { __typename ... on Event { id status } ... on Error { message } } }`, {
      id: event.id,
    });
    expect(result.redeliverEvent).toEqual({ __typename: 'Event', id: event.id, status: 'PENDING' });
    const again = await waitForEventStatus(event.id, 'DELIVERED');
    expect(again.attempts.map((a: any) => a.attemptNumber)).toEqual([1, 2]);
    expect(receiver.requestsFor(event.id)).toHaveLength(2);

    // A FAILED event gets a whole new series of MAX_ATTEMPTS tries.
    const failing = await TestReceiver.start();
    failing.fallback = { status: 500 };
    try {
      const doomed = await createSubscription({ targetUrl: `${failing.url}/x` });
      const failedEvent = await ingest({ subscriptionId: doomed.id, payload: { n: 1 } });
      await waitForEventStatus(failedEvent.id, 'FAILED', 15_000);
      failing.fallback = { status: 204 };
      await gqlData(`mutation($id: ID!) { redeliverEvent(id: $id) { __typename } }`, { id: failedEvent.id });
      const recovered = await waitForEventStatus(failedEvent.id, 'DELIVERED');
      expect(recovered.attempts.map((a: any) => a.attemptNumber)).toEqual([...Array(maxAttempts() + 1).keys()].map((n) => n + 1));
      expect(recovered.attempts.at(-1)).toMatchObject({ success: true, responseStatus: 204 });
    } finally {
      await failing.close();
    }
  });

  it('refuses to redeliver an event that is not DELIVERED or FAILED, and names unknown ids', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/filtered`, eventTypes: ['only.this'] });
    const event = await ingest({ subscriptionId: subscription.id, eventType: 'other.thing', payload: {} });
    const refused = await gqlData(`mutation($id: ID!) { redeliverEvent(id: $id) { __typename ... on Error { message } } }`, { id: event.id });
    expect(refused.redeliverEvent.__typename).toBe('ValidationError');
    expect(refused.redeliverEvent.message).toContain('FILTERED');
    const unknown = await gqlData(`mutation { redeliverEvent(id: "00000000-0000-4000-8000-000000000000") { __typename ... on Error { message } } }`);
    expect(unknown.redeliverEvent.__typename).toBe('NotFoundError');
  });

  it('lists an event in its subscription, newest first, with cursor pagination', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/paged` });
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) ids.push((await ingest({ subscriptionId: subscription.id, payload: { n } })).id);
    const query = `query($id: ID!, $after: String) { webhookSubscription(id: $id) {
      events(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const data: any = await gqlData(query, { id: subscription.id, after });
      const events = data.webhookSubscription.events;
      seen.push(...events.edges.map((edge: any) => edge.node.id));
      if (!events.pageInfo.hasNextPage) break;
      after = events.pageInfo.endCursor;
    }
    expect(seen).toEqual([...ids].reverse());
    const top = await gqlData(`query($id: ID!) { events(subscriptionId: $id, first: 1) { edges { node { ${EVENT_FIELDS} } } } }`, { id: subscription.id });
    expect(top.events.edges[0].node.id).toBe(ids.at(-1));
  });
});
