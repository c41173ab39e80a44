// ingestEvents: many events in one call and one transaction, answered in input order.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSubscription, gqlData, waitForEventStatus } from '../helpers/api.ts';
import { sql } from '../helpers/db.ts';
import { TestReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

const receiver = TestReceiver.forFile();

const INGEST_EVENTS = `mutation($inputs: [IngestEventInput!]!) { ingestEvents(inputs: $inputs) {
  __typename ... on IngestedEvents { events { id status eventType payload idempotencyKey subscription { id } } }
  ... on ValidationError { message fieldErrors { path message } } ... on NotFoundError { message } } }`;

describe('ingestEvents', () => {
  it('stores a batch in input order, filters per subscription, delivers each once', async () => {
    const orders = await createSubscription({ targetUrl: `${receiver.url}/batch-orders`, eventTypes: ['batch.order.*'] });
    const users = await createSubscription({ targetUrl: `${receiver.url}/batch-users`, eventTypes: ['batch.user.*'] });
    const inputs = Array.from({ length: 300 }, (_, n) => ({
      subscriptionId: n % 2 ? orders.id : users.id,
      eventType: n % 3 === 0 ? 'batch.other' : n % 2 ? 'batch.order.created' : 'batch.user.created',
      payload: { n },
    }));
    const data = await gqlData(INGEST_EVENTS, { inputs });
    const events: any[] = data.ingestEvents.events;
    expect(events).toHaveLength(300);
    events.forEach((event, n) => {
      expect(event.payload).toEqual({ n });
      expect(event.subscription.id).toBe(inputs[n]!.subscriptionId);
      expect(event.status).toBe(inputs[n]!.eventType === 'batch.other' ? 'FILTERED' : 'PENDING');
    });
    const pending = events.filter((event) => event.status === 'PENDING');
    await waitFor(async () => {
      const [{ count }] = await sql(`SELECT count(*)::int AS count FROM "Event" WHERE id = ANY($1::uuid[]) AND status = 'DELIVERED'`, [pending.map((e) => e.id)]);
      return count === pending.length;
    }, { timeoutMs: 30_000, what: 'the batch delivered' });
    for (const event of pending) expect(receiver.requestsFor(event.id)).toHaveLength(1);
  });

  it('answers repeated idempotency keys (in the batch and from before) with the first event', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/batch-keys`, eventTypes: ['batch.*'] });
    const key = randomUUID();
    const first = await gqlData(INGEST_EVENTS, { inputs: [{ subscriptionId: subscription.id, eventType: 'batch.k', payload: { n: 1 }, idempotencyKey: key }] });
    const firstId = first.ingestEvents.events[0].id;
    const again = await gqlData(INGEST_EVENTS, {
      inputs: [
        { subscriptionId: subscription.id, eventType: 'batch.k', payload: { n: 2 }, idempotencyKey: key },
        { subscriptionId: subscription.id, eventType: 'batch.k', payload: { n: 3 } },
        { subscriptionId: subscription.id, eventType: 'batch.k', payload: { n: 4 }, idempotencyKey: `${key}-new` },
        { subscriptionId: subscription.id, eventType: 'batch.k', payload: { n: 5 }, idempotencyKey: `${key}-new` },
      ],
    });
    const ids = again.ingestEvents.events.map((event: any) => event.id);
    expect(ids[0]).toBe(firstId);
    expect(again.ingestEvents.events[0].payload).toEqual({ n: 1 });
    expect(ids[2]).toBe(ids[3]);
    expect(new Set(ids).size).toBe(3);
    await waitForEventStatus(ids[2], 'DELIVERED');
    expect(receiver.requestsFor(ids[2])).toHaveLength(1);
  });

  it('writes nothing when any input is bad, naming each by index; unknown subscriptions are NotFoundError', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/batch-bad`, eventTypes: ['batch.*'] });
    const marker = randomUUID();
    const bad = await gqlData(INGEST_EVENTS, {
      inputs: [
        { subscriptionId: subscription.id, eventType: 'batch.ok', payload: { marker } },
        { subscriptionId: subscription.id, eventType: '', payload: { marker } },
        { subscriptionId: subscription.id, eventType: 'batch.ok', payload: { bad: 'a\u0000b' } },
      ],
    });
    expect(bad.ingestEvents.__typename).toBe('ValidationError');
    expect(bad.ingestEvents.fieldErrors.map((e: any) => e.path.join('.'))).toEqual(['inputs.1.eventType', 'inputs.2.payload']);
    expect(await sql(`SELECT 1 FROM "Event" WHERE payload->>'marker' = $1`, [marker])).toHaveLength(0);

    const empty = await gqlData(INGEST_EVENTS, { inputs: [] });
    expect(empty.ingestEvents.fieldErrors[0].path).toEqual(['inputs']);

    const unknown = randomUUID();
    const missing = await gqlData(INGEST_EVENTS, { inputs: [{ subscriptionId: subscription.id, payload: { marker } }, { subscriptionId: unknown, payload: {} }] });
    expect(missing.ingestEvents.__typename).toBe('NotFoundError');
    expect(missing.ingestEvents.message).toContain(unknown);
    expect(await sql(`SELECT 1 FROM "Event" WHERE payload->>'marker' = $1`, [marker])).toHaveLength(0);
  });
});
