// Which events are sent: type filters, PAUSED and DISABLED subscriptions, idempotency, fan-out.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSubscription, getEvent, gqlData, ingest, updateSubscription, waitForEventStatus } from '../helpers/api.ts';
import { TestReceiver } from '../helpers/receiver.ts';

const receiver = TestReceiver.forFile();

describe('event-type filters', () => {
  it('delivers matching types (exact and prefix) and stores others as FILTERED, never sent', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/filters`, eventTypes: ['order.*', 'user.created'] });
    const byPrefix = await ingest({ subscriptionId: subscription.id, eventType: 'order.created', payload: { a: 1 } });
    const exact = await ingest({ subscriptionId: subscription.id, eventType: 'user.created', payload: { a: 2 } });
    const other = await ingest({ subscriptionId: subscription.id, eventType: 'user.deleted', payload: { a: 3 } });
    const untyped = await ingest({ subscriptionId: subscription.id, payload: { a: 4 } });
    expect(other.status).toBe('FILTERED');
    expect(untyped.status).toBe('FILTERED');
    await waitForEventStatus(byPrefix.id, 'DELIVERED');
    await waitForEventStatus(exact.id, 'DELIVERED');
    // Both delivered events came after the filtered ones were stored; none of those was sent.
    for (const filtered of [other, untyped]) {
      const event = await getEvent(filtered.id);
      expect(event).toMatchObject({ status: 'FILTERED', attemptCount: 0, attempts: [], nextAttemptAt: null });
      expect(receiver.requestsFor(filtered.id)).toHaveLength(0);
    }
  });
});

describe('subscription status', () => {
  it('holds events of a PAUSED subscription as PENDING and delivers them on resume', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/paused` });
    const paused = await updateSubscription(subscription.id, { status: 'PAUSED' });
    expect(paused.status).toBe('PAUSED');
    const held = await Promise.all([1, 2, 3].map((n) => ingest({ subscriptionId: subscription.id, payload: { n } })));
    expect(held.every((event) => event.status === 'PENDING')).toBe(true);
    // A sentinel on an active subscription, ingested after them, shows the worker has had its chance.
    const control = await createSubscription({ targetUrl: `${receiver.url}/control` });
    const sentinel = await ingest({ subscriptionId: control.id, payload: { sentinel: true } });
    await waitForEventStatus(sentinel.id, 'DELIVERED');
    for (const event of held) {
      expect((await getEvent(event.id)).status).toBe('PENDING');
      expect(receiver.requestsFor(event.id)).toHaveLength(0);
    }
    const resumed = await updateSubscription(subscription.id, { status: 'ACTIVE' });
    expect(resumed.status).toBe('ACTIVE');
    for (const event of held) {
      const delivered = await waitForEventStatus(event.id, 'DELIVERED');
      expect(delivered.attempts).toHaveLength(1);
      expect(receiver.requestsFor(event.id)).toHaveLength(1);
    }
  });

  it('stores events of a DISABLED subscription as FAILED with no attempt', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/disabled` });
    await updateSubscription(subscription.id, { status: 'DISABLED' });
    const event = await ingest({ subscriptionId: subscription.id, payload: { never: true } });
    expect(event.status).toBe('FAILED');
    expect(event.attempts).toEqual([]);
    expect((await getEvent(event.id)).attemptCount).toBe(0);
    expect(receiver.requestsFor(event.id)).toHaveLength(0);
  });

  it('sees an update at once despite the subscription cache (filters changed after ingest)', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/cache`, eventTypes: ['a.one'] });
    const before = await ingest({ subscriptionId: subscription.id, eventType: 'b.two', payload: {} });
    expect(before.status).toBe('FILTERED');
    await updateSubscription(subscription.id, { eventTypes: ['b.*'] });
    const after = await ingest({ subscriptionId: subscription.id, eventType: 'b.two', payload: {} });
    expect(after.status).toBe('PENDING');
    await waitForEventStatus(after.id, 'DELIVERED');
  });
});

describe('idempotency', () => {
  it('returns the first event for a repeated (subscription, idempotencyKey) and delivers once', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/idempotent` });
    const key = `order-${randomUUID()}`;
    const first = await ingest({ subscriptionId: subscription.id, payload: { n: 1 }, idempotencyKey: key });
    const again = await Promise.all([2, 3, 4].map((n) => ingest({ subscriptionId: subscription.id, payload: { n }, idempotencyKey: key })));
    expect(again.map((event) => event.id)).toEqual([first.id, first.id, first.id]);
    expect(again[0].payload).toEqual({ n: 1 });
    expect(first.idempotencyKey).toBe(key);
    await waitForEventStatus(first.id, 'DELIVERED');
    const events = await gqlData(`query($id: ID!) { events(subscriptionId: $id) { edges { node { id } } } }`, { id: subscription.id });
    expect(events.events.edges).toHaveLength(1);
    expect(receiver.requestsFor(first.id)).toHaveLength(1);

    // The same key on another subscription is another event.
    const other = await createSubscription({ targetUrl: `${receiver.url}/idempotent-2` });
    const elsewhere = await ingest({ subscriptionId: other.id, payload: { n: 1 }, idempotencyKey: key });
    expect(elsewhere.id).not.toBe(first.id);
  });
});

describe('publishEvent fan-out', () => {
  // Only `subscription { id }`: the fan-out reaches other files' catch-all subscriptions too,
  // and one deleted meanwhile could not have its fields loaded.
  const PUBLISH = `mutation($input: PublishEventInput!) { publishEvent(input: $input) {
    __typename ... on PublishedEvents { events { id status eventType payload subscription { id } } } ... on ValidationError { message } } }`;
  /** The event types a subscription listens to, or null once it is deleted. */
  const eventTypesOf = async (id: string): Promise<string[] | null> =>
    (await gqlData(`query($id: ID!) { webhookSubscription(id: $id) { eventTypes } }`, { id })).webhookSubscription?.eventTypes ?? null;

  it('creates one event per ACTIVE or PAUSED subscription whose filters match', async () => {
    const type = `fanout${randomUUID().slice(0, 8)}`;
    const exact = await createSubscription({ targetUrl: `${receiver.url}/fan-a`, eventTypes: [`${type}.created`] });
    const prefix = await createSubscription({ targetUrl: `${receiver.url}/fan-b`, eventTypes: [`${type}.*`] });
    const paused = await createSubscription({ targetUrl: `${receiver.url}/fan-c`, eventTypes: [`${type}.*`] });
    await updateSubscription(paused.id, { status: 'PAUSED' });
    const disabled = await createSubscription({ targetUrl: `${receiver.url}/fan-d`, eventTypes: [`${type}.*`] });
    await updateSubscription(disabled.id, { status: 'DISABLED' });
    const unrelated = await createSubscription({ targetUrl: `${receiver.url}/fan-e`, eventTypes: [`${type}.deleted`] });

    const data = await gqlData(PUBLISH, { input: { eventType: `${type}.created`, payload: { fan: 'out' } } });
    const events: any[] = data.publishEvent.events;
    const bySubscription = new Map(events.map((event) => [event.subscription.id, event]));
    expect(bySubscription.has(exact.id)).toBe(true);
    expect(bySubscription.has(prefix.id)).toBe(true);
    expect(bySubscription.has(paused.id)).toBe(true);
    expect(bySubscription.has(disabled.id)).toBe(false);
    expect(bySubscription.has(unrelated.id)).toBe(false);
    expect(events.every((event) => event.eventType === `${type}.created` && event.payload.fan === 'out')).toBe(true);
    await waitForEventStatus(bySubscription.get(exact.id).id, 'DELIVERED');
    await waitForEventStatus(bySubscription.get(prefix.id).id, 'DELIVERED');
    expect((await getEvent(bySubscription.get(paused.id).id)).status).toBe('PENDING');
  });

  it('returns an empty list when nothing matches, and the first events for a repeated key', async () => {
    // Other test files' catch-all subscriptions (no filter) share this database, so "nothing
    // matches" is checked as: only catch-alls got an event, and no filtered subscription did.
    const bystander = await createSubscription({ targetUrl: `${receiver.url}/fan-none`, eventTypes: ['some.other'] });
    const none = await gqlData(PUBLISH, { input: { eventType: `nobody${randomUUID().slice(0, 8)}.listens`, payload: {} } });
    for (const event of none.publishEvent.events) expect([[], null]).toContainEqual(await eventTypesOf(event.subscription.id));
    expect(none.publishEvent.events.some((event: any) => event.subscription.id === bystander.id)).toBe(false);

    const type = `fankey${randomUUID().slice(0, 8)}.created`;
    const target = await createSubscription({ targetUrl: `${receiver.url}/fan-key`, eventTypes: [type] });
    const key = randomUUID();
    const first = await gqlData(PUBLISH, { input: { eventType: type, payload: { n: 1 }, idempotencyKey: key } });
    const second = await gqlData(PUBLISH, { input: { eventType: type, payload: { n: 2 }, idempotencyKey: key } });
    const ids = (result: any) => result.publishEvent.events.map((event: any) => event.id).sort();
    expect(ids(second)).toEqual(ids(first));
    const mine = first.publishEvent.events.find((event: any) => event.subscription.id === target.id);
    expect(mine).toBeDefined();
    await waitForEventStatus(mine.id, 'DELIVERED');
    expect(receiver.requestsFor(mine.id)).toHaveLength(1);
  });
});
