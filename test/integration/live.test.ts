// Every client watching sees each step live: over graphql-ws and over SSE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubscription, ingest, waitForEventStatus } from '../helpers/api.ts';
import { subscribeSse, subscribeWs, type LiveStream } from '../helpers/live.ts';
import { TestReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

let receiver: TestReceiver;
beforeAll(async () => {
  receiver = await TestReceiver.start();
});
afterAll(async () => {
  await receiver.close();
});

const EVENTS = `subscription($subscriptionId: ID) { eventsUpdated(subscriptionId: $subscriptionId) {
  id status attemptCount nextAttemptAt updatedAt subscription { id } } }`;
const ONE_EVENT = `subscription($id: ID!) { eventUpdated(id: $id) { id status attemptCount } }`;
const ATTEMPTS = `subscription($subscriptionId: ID, $eventId: ID) { deliveryAttemptRecorded(subscriptionId: $subscriptionId, eventId: $eventId) {
  id attemptNumber success responseStatus error nextAttemptAt attemptedAt event { id status } } }`;

/**
 * A subscription's first moments can't be observed from outside, so probe: send events until
 * both streams have shown one. Then nothing after that can be missed.
 */
async function waitUntilLive(subscriptionId: string, events: LiveStream, attempts: LiveStream): Promise<Set<string>> {
  const probes = new Set<string>();
  await waitFor(
    async () => {
      probes.add((await ingest({ subscriptionId, eventType: 'probe.ping', payload: { probe: true } })).id);
      await new Promise((resolve) => setTimeout(resolve, 150));
      return events.items.length > 0 && attempts.items.length > 0;
    },
    { timeoutMs: 10_000, intervalMs: 0, what: 'the live streams to start' },
  );
  return probes;
}

describe.each([
  ['graphql-ws', subscribeWs],
  ['SSE', subscribeSse],
])('live updates over %s', (_transport, subscribe) => {
  it('shows PENDING → DELIVERING → RETRYING → DELIVERING → DELIVERED and each attempt', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/live-${_transport}` });
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

  it('eventUpdated(id) follows one event and no other', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/live-one-${_transport}` });
    // Hold the event: the subscription is paused until the watcher is live.
    const event = await ingest({ subscriptionId: subscription.id, payload: { one: true } });
    const watcher = subscribe(ONE_EVENT, { id: event.id });
    const everything = subscribe(EVENTS, {});
    const attempts = subscribe(ATTEMPTS, { eventId: event.id });
    try {
      await waitForEventStatus(event.id, 'DELIVERED');
      // The event may have finished before the watcher started: redeliver, now watched.
      await waitUntilLive(subscription.id, everything, subscribe(ATTEMPTS, {}));
      const { gqlData } = await import('../helpers/api.ts');
      await gqlData(`mutation($id: ID!) { redeliverEvent(id: $id) { __typename } }`, { id: event.id });
      await waitFor(() => watcher.items.some((item) => item.eventUpdated.status === 'DELIVERED' && item.eventUpdated.attemptCount === 2), {
        what: 'the redelivery on eventUpdated',
      });
      expect(watcher.items.every((item) => item.eventUpdated.id === event.id)).toBe(true);
      await waitFor(() => attempts.items.some((item) => item.deliveryAttemptRecorded.attemptNumber === 2), { what: 'attempt 2' });
      expect(attempts.items.every((item) => item.deliveryAttemptRecorded.event.id === event.id)).toBe(true);
    } finally {
      await watcher.close();
      await everything.close();
      await attempts.close();
    }
  });
});
