// Every client watching sees each step live: over graphql-ws and over SSE.
import { createClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { join } from 'node:path';
import { createSubscription, gqlData, ingest, stack, waitForEventStatus } from '../helpers/api.ts';
import { freePort, newLogDir, startProcess, stopProcess } from '../helpers/stack.ts';
import { metricValue } from '../../bench/lib/stack.ts';
import { subscribeSse, subscribeWs, type LiveStream } from '../helpers/live.ts';
import { TestReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

const receiver = TestReceiver.forFile();

const EVENTS = `subscription($subscriptionId: ID) { eventsUpdated(subscriptionId: $subscriptionId) {
  id status attemptCount nextAttemptAt updatedAt subscription { id } } }`;
const ONE_EVENT = `subscription($id: ID!) { eventUpdated(id: $id) { id status attemptCount } }`;
const ATTEMPTS = `subscription($subscriptionId: ID, $eventId: ID) { deliveryAttemptRecorded(subscriptionId: $subscriptionId, eventId: $eventId) {
  id attemptNumber success responseStatus error nextAttemptAt attemptedAt event { id status } } }`;

/**
 * A subscription's first moments can't be observed from outside, so probe: send events until
 * both streams have shown one. Then nothing after that can be missed.
 */
async function waitUntilLive(subscriptionId: string, events: LiveStream, attempts: LiveStream): Promise<void> {
  const probes: string[] = [];
  await waitFor(
    async () => {
      probes.push((await ingest({ subscriptionId, eventType: 'probe.ping', payload: { probe: true } })).id);
      await new Promise((resolve) => setTimeout(resolve, 150));
      return events.items.length > 0 && attempts.items.length > 0;
    },
    { timeoutMs: 10_000, intervalMs: 0, what: 'the live streams to start' },
  );
  // Settle the probes, so none of them takes an answer scripted for the event under test.
  for (const id of probes) await waitForEventStatus(id, 'DELIVERED');
}

describe.each([
  ['graphql-ws', subscribeWs],
  ['SSE', subscribeSse],
])('live updates over %s', (_transport, subscribe) => {
  it('shows PENDING → DELIVERING → RETRYING → DELIVERING → DELIVERED and each attempt', async () => {
    // Filtered, so other files' publishEvent fan-outs cannot take the scripted answer.
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/live-${_transport}`, eventTypes: ['order.*', 'probe.*'] });
    const events = subscribe(EVENTS, { subscriptionId: subscription.id });
    const attempts = subscribe(ATTEMPTS, { subscriptionId: subscription.id });
    try {
      await waitUntilLive(subscription.id, events, attempts);
      receiver.script(`/live-${_transport}`, { status: 500, body: 'first try fails' });
      const event = await ingest({ subscriptionId: subscription.id, eventType: 'order.created', payload: { live: true } });
      await waitForEventStatus(event.id, 'DELIVERED');

      const statuses = () => events.items.map((item) => item.eventsUpdated).filter((e) => e.id === event.id).map((e) => e.status);
      await waitFor(() => statuses().at(-1) === 'DELIVERED', { what: 'DELIVERED on the stream' });
      expect(statuses()).toEqual(['PENDING', 'DELIVERING', 'RETRYING', 'DELIVERING', 'DELIVERED']);
      const updates = events.items.map((item) => item.eventsUpdated).filter((e) => e.id === event.id);
      expect(updates.map((e) => e.attemptCount)).toEqual([0, 0, 1, 1, 2]);
      expect(updates[2].nextAttemptAt).not.toBeNull();
      expect(updates.every((e) => e.subscription.id === subscription.id)).toBe(true);

      const mine = () => attempts.items.map((item) => item.deliveryAttemptRecorded).filter((a) => a.event.id === event.id);
      await waitFor(() => mine().length === 2, { what: 'both attempts on the stream' });
      expect(mine().map((a) => [a.attemptNumber, a.success, a.responseStatus])).toEqual([
        [1, false, 500],
        [2, true, 200],
      ]);
      expect(mine()[0].error).toBe('HTTP 500');
      expect(mine()[0].nextAttemptAt).not.toBeNull();
      expect(events.errors).toEqual([]);
      expect(attempts.errors).toEqual([]);
    } finally {
      await events.close();
      await attempts.close();
    }
  });

  it('eventUpdated(id) and deliveryAttemptRecorded(eventId) follow one event and no other', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/live-one-${_transport}` });
    const event = await ingest({ subscriptionId: subscription.id, payload: { one: true } });
    const other = await ingest({ subscriptionId: subscription.id, payload: { other: true } });
    await waitForEventStatus(event.id, 'DELIVERED');
    const watcher = subscribe(ONE_EVENT, { id: event.id });
    const attempts = subscribe(ATTEMPTS, { eventId: event.id });
    try {
      // Redeliver until the watcher has seen a whole redelivery: its start can't be observed.
      await waitFor(
        async () => {
          if (watcher.items.some((item) => item.eventUpdated.status === 'DELIVERED')) return true;
          await gqlData(`mutation($id: ID!) { redeliverEvent(id: $id) { __typename } }`, { id: event.id });
          await gqlData(`mutation($id: ID!) { redeliverEvent(id: $id) { __typename } }`, { id: other.id });
          await new Promise((resolve) => setTimeout(resolve, 200));
          return false;
        },
        { intervalMs: 0, what: 'a redelivery on eventUpdated' },
      );
      const seen = watcher.items.map((item) => item.eventUpdated);
      expect(seen.every((update) => update.id === event.id)).toBe(true);
      expect(seen.map((update) => update.status)).toContain('DELIVERING');
      await waitFor(() => attempts.items.length > 0, { what: 'an attempt on deliveryAttemptRecorded(eventId)' });
      expect(attempts.items.every((item) => item.deliveryAttemptRecorded.event.id === event.id)).toBe(true);
      expect(attempts.items[0].deliveryAttemptRecorded.attemptNumber).toBeGreaterThanOrEqual(2);
    } finally {
      await watcher.close();
      await attempts.close();
    }
  });
});

// Subscriptions run on server/direct-subscribe.ts, which hands one that cannot start to the
// engine: its refusal must stay the engine's (an HTTP 400 for SSE, BAD_USER_INPUT).
describe('a subscription with a mistyped variable', () => {
  const MISTYPED = { query: `subscription($s: ID) { deliveryAttemptRecorded(subscriptionId: $s) { id } }`, variables: { s: { not: 'an id' } } };

  it('is refused over SSE with 400 and BAD_USER_INPUT', async () => {
    const response = await fetch(`${stack().url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${stack().token}` },
      body: JSON.stringify(MISTYPED),
    });
    const text = await response.text();
    expect(response.status, text).toBe(400);
    expect(text).toContain('"code":"BAD_USER_INPUT"');
    expect(text).toContain('$s');
  });

  it('is refused over graphql-ws with BAD_USER_INPUT', async () => {
    const client = createClient({
      url: `${stack().url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${stack().token}` },
      retryAttempts: 0,
    });
    try {
      const results: { errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }[] = [];
      await new Promise<void>((resolve, reject) => {
        client.subscribe(MISTYPED, { next: (result) => results.push(result), error: reject, complete: resolve });
      });
      expect(results).toHaveLength(1);
      expect(results[0]!.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(results[0]!.errors?.[0]?.message).toContain('$s');
    } finally {
      await client.dispose();
    }
  });
});

// A server of its own, so that its live-subscriber count is only this test's.
describe('a live subscriber that goes away', () => {
  it('is let go, over graphql-ws and over SSE', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = startProcess('server/main.ts', { ...stack().env, PORT: String(port) }, join(newLogDir(), 'server.log'));
    const liveSubscribers = () => metricValue(url, 'hookd_live_subscribers');
    const query = `subscription { deliveryAttemptRecorded { id } }`;
    try {
      await waitFor(async () => (await fetch(`${url}/health`)).ok, { timeoutMs: 20_000, what: 'the server to listen' });
      expect(await liveSubscribers()).toBe(0);

      const client = createClient({
        url: `${url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${stack().token}` },
        retryAttempts: 0,
      });
      const unsubscribe = client.subscribe({ query }, { next: () => {}, error: () => {}, complete: () => {} });
      await waitFor(async () => (await liveSubscribers()) === 1, { what: 'the graphql-ws subscriber counted' });
      unsubscribe();
      await waitFor(async () => (await liveSubscribers()) === 0, { what: 'the graphql-ws subscriber let go' });
      await client.dispose();

      const controller = new AbortController();
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${stack().token}` },
        body: JSON.stringify({ query }),
        signal: controller.signal,
      });
      expect(response.status).toBe(200);
      await waitFor(async () => (await liveSubscribers()) === 1, { what: 'the SSE subscriber counted' });
      controller.abort();
      await waitFor(async () => (await liveSubscribers()) === 0, { what: 'the SSE subscriber let go' });
    } finally {
      await stopProcess(server);
    }
  });
});
