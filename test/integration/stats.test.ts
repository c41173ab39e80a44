// Aggregates the dashboard reads: computed in PostgreSQL from the attempts that were recorded.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { createSubscription, gqlData, graphql, ingest, waitForEventStatus } from '../helpers/api.ts';
import { TestReceiver } from '../helpers/receiver.ts';

const receiver = TestReceiver.forFile();

describe('delivery aggregates', () => {
  it('counts attempts, success rate, latency, events by status and the last attempt', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/stats`, eventTypes: ['stats.*'] });
    receiver.script('/stats', { status: 500 });
    const retried = await ingest({ subscriptionId: subscription.id, eventType: 'stats.one', payload: { n: 1 } });
    await waitForEventStatus(retried.id, 'DELIVERED');
    const second = await ingest({ subscriptionId: subscription.id, eventType: 'stats.two', payload: { n: 2 } });
    await waitForEventStatus(second.id, 'DELIVERED');
    await ingest({ subscriptionId: subscription.id, eventType: 'other', payload: {} }); // FILTERED

    const data = await gqlData(
      `query($id: ID!) { webhookSubscription(id: $id) {
        stats { attempts succeeded failed successRate p50DurationMs p95DurationMs }
        eventCounts { status count }
        lastAttempt { attemptNumber success event { id } loaded: event { id status } requestHeaders { name value } }
        timeline(minutes: 5) { minute succeeded failed p50DurationMs p95DurationMs }
      } deliveryStats(subscriptionId: $id) { attempts succeeded } }`,
      { id: subscription.id },
    );
    const { stats, eventCounts, lastAttempt, timeline } = data.webhookSubscription;
    expect(stats).toMatchObject({ attempts: 3, succeeded: 2, failed: 1 });
    expect(stats.successRate).toBeCloseTo(2 / 3);
    expect(stats.p50DurationMs).toBeGreaterThanOrEqual(0);
    expect(stats.p95DurationMs).toBeGreaterThanOrEqual(stats.p50DurationMs);
    expect(data.deliveryStats).toEqual({ attempts: 3, succeeded: 2 });

    const counts = Object.fromEntries(eventCounts.map((row: any) => [row.status, row.count]));
    expect(counts).toEqual({ PENDING: 0, DELIVERING: 0, RETRYING: 0, DELIVERED: 2, FAILED: 0, FILTERED: 1 });

    // `event { id }` is answered from the attempt alone; with more fields the event is loaded.
    expect(lastAttempt).toMatchObject({ attemptNumber: 1, success: true, event: { id: second.id }, loaded: { id: second.id, status: 'DELIVERED' } });

    expect(timeline).toHaveLength(5);
    const minutes = timeline.map((bucket: any) => Date.parse(bucket.minute));
    expect(minutes.every((minute: number, index: number) => index === 0 || minute - minutes[index - 1]! === 60_000)).toBe(true);
    expect(timeline.reduce((sum: number, bucket: any) => sum + bucket.succeeded, 0)).toBe(2);
    expect(timeline.reduce((sum: number, bucket: any) => sum + bucket.failed, 0)).toBe(1);
    expect(timeline.filter((bucket: any) => bucket.succeeded + bucket.failed === 0).every((bucket: any) => bucket.p50DurationMs === null)).toBe(true);
  });

  it('keeps the request headers as sent, and they verify', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/headers` });
    const event = await ingest({ subscriptionId: subscription.id, payload: { signed: 'yes' } });
    const delivered = await waitForEventStatus(event.id, 'DELIVERED');
    const data = await gqlData(`query($id: ID!) { event(id: $id) { attempts { requestHeaders { name value } } } }`, { id: delivered.id });
    const headers = Object.fromEntries(data.event.attempts[0].requestHeaders.map((header: any) => [header.name, header.value]));
    const [request] = receiver.requestsFor(event.id);
    for (const name of ['content-type', 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      expect(headers[name], name).toBe(request!.headers[name]);
    }
    expect(new Webhook(subscription.secret).verify(request!.body, headers)).toEqual({ signed: 'yes' });
  });

  it('rejects windows out of range with BAD_USER_INPUT', async () => {
    for (const query of [`{ deliveryStats(hours: 0) { attempts } }`, `{ deliveryStats(hours: 721) { attempts } }`, `{ deliveryTimeline(minutes: 1441) { minute } }`]) {
      const result = await graphql(query);
      expect(result.errors?.[0]?.extensions?.code, query).toBe('BAD_USER_INPUT');
    }
  });

  it('answers stats for many subscriptions in one list', async () => {
    // Filtered: other files' publishEvent fan-outs reach every catch-all subscription.
    const created = await Promise.all([1, 2, 3].map((n) => createSubscription({ targetUrl: `${receiver.url}/many-${n}`, eventTypes: ['stats.*'] })));
    const events = await Promise.all(created.map((subscription) => ingest({ subscriptionId: subscription.id, eventType: 'stats.many', payload: {} })));
    for (const event of events) await waitForEventStatus(event.id, 'DELIVERED');
    const data = await gqlData(`{ webhookSubscriptions(first: 100) { edges { node { id stats(hours: 1) { attempts succeeded } lastAttempt { success } } } } }`);
    const byId = new Map(data.webhookSubscriptions.edges.map((edge: any) => [edge.node.id, edge.node]));
    for (const subscription of created) {
      expect(byId.get(subscription.id)).toMatchObject({ stats: { attempts: 1, succeeded: 1 }, lastAttempt: { success: true } });
    }
  });
});
