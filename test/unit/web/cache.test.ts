// The Graphcache configuration, driven through a real urql client: HTTP answered by a fake
// fetch, subscription results pushed by hand.
import { readFileSync } from 'node:fs';
import { Client, fetchExchange, subscriptionExchange, type OperationResult } from '@urql/core';
import { getIntrospectedSchema, minifyIntrospectionQuery } from '@urql/introspection';
import { beforeEach, describe, expect, it } from 'vitest';
import { createCacheExchange } from '../../../web/src/cache.ts';
import {
  AttemptRecordedSubscription,
  EventsUpdatedSubscription,
  SubscriptionEventsQuery,
  SubscriptionsQuery,
} from '../../../web/src/documents.ts';

const schema = minifyIntrospectionQuery(getIntrospectedSchema(readFileSync(new URL('../../../schema.graphql', import.meta.url), 'utf8')));
const SUB = 'c5d110c4-d175-433c-8fb8-b855ebae2139';

function event(id: string, status: string, createdAt: string) {
  return {
    __typename: 'Event',
    id,
    eventType: 'order.created',
    status,
    attemptCount: status === 'PENDING' ? 0 : 1,
    nextAttemptAt: null,
    createdAt,
    updatedAt: createdAt,
    deliveredAt: null,
  };
}

function eventsPage(events: ReturnType<typeof event>[], hasNextPage = false) {
  return {
    webhookSubscription: {
      __typename: 'WebhookSubscription',
      id: SUB,
      events: {
        __typename: 'EventConnection',
        edges: events.map((node) => ({ __typename: 'EventEdge', node })),
        pageInfo: { __typename: 'PageInfo', hasNextPage, endCursor: events.at(-1)?.id ?? null },
      },
    },
  };
}

let server: { events: ReturnType<typeof event>[]; hasNextPage: boolean; requests: string[] };
let push: (operationName: string, data: unknown) => void;
let client: Client;

beforeEach(() => {
  server = { events: [], hasNextPage: false, requests: [] };
  const sinks = new Map<string, { next: (value: unknown) => void }>();
  push = (operationName, data) => sinks.get(operationName)!.next({ data });
  const fakeFetch = async (url: RequestInfo | URL, init?: RequestInit) => {
    // Queries go as GET (urql's preferGetMethod), mutations as POST.
    const operationName =
      init?.body != null
        ? (JSON.parse(String(init.body)) as { operationName: string }).operationName
        : new URL(String(url)).searchParams.get('operationName')!;
    server.requests.push(operationName);
    let data: unknown = null;
    if (operationName === 'SubscriptionEvents') data = eventsPage(server.events, server.hasNextPage);
    if (operationName === 'Subscriptions') data = subscriptionsPage();
    return new Response(JSON.stringify({ data }), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  client = new Client({
    url: 'http://localhost/graphql',
    fetch: fakeFetch as typeof fetch,
    requestPolicy: 'cache-first',
    exchanges: [
      createCacheExchange(schema),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          return {
            subscribe(sink) {
              const name = /subscription (\w+)/.exec(request.query ?? '')![1]!;
              sinks.set(name, sink as { next: (value: unknown) => void });
              return { unsubscribe: () => sinks.delete(name) };
            },
          };
        },
      }),
    ],
  });
});

function subscriptionsPage() {
  return {
    webhookSubscriptions: {
      __typename: 'WebhookSubscriptionConnection',
      edges: [
        {
          __typename: 'WebhookSubscriptionEdge',
          node: {
            __typename: 'WebhookSubscription',
            id: SUB,
            name: 'orders',
            targetUrl: 'http://127.0.0.1:4100/ok',
            eventTypes: [],
            status: 'ACTIVE',
            createdAt: '2025-01-01T11:00:00Z',
            updatedAt: '2025-01-01T11:00:00Z',
            lastAttempt: null,
            stats: { __typename: 'DeliveryStats', attempts: 0, succeeded: 0, failed: 0, successRate: null, p50DurationMs: null, p95DurationMs: null },
          },
        },
      ],
      pageInfo: { __typename: 'PageInfo', hasNextPage: false, endCursor: SUB },
    },
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

function watch<T>(source: { subscribe: (callback: (result: OperationResult<T>) => void) => { unsubscribe: () => void } }) {
  const results: OperationResult<T>[] = [];
  const subscription = source.subscribe((result) => results.push(result));
  return { results, latest: () => results.at(-1), stop: subscription.unsubscribe };
}

const eventIds = (result: OperationResult | undefined) =>
  (result?.data as ReturnType<typeof eventsPage> | undefined)?.webhookSubscription.events.edges.map((edge) => `${edge.node.id}:${edge.node.status}`);

describe('the cache', () => {
  it('applies an event status pushed by a subscription to the list showing it, without a refetch', async () => {
    server.events = [event('e2', 'DELIVERING', '2025-01-01T12:00:02Z'), event('e1', 'DELIVERED', '2025-01-01T12:00:01Z')];
    const list = watch(client.query(SubscriptionEventsQuery, { id: SUB, first: 25, after: null, status: null }));
    const live = watch(client.subscription(EventsUpdatedSubscription, { subscriptionId: SUB }));
    await tick();
    expect(eventIds(list.latest())).toEqual(['e2:DELIVERING', 'e1:DELIVERED']);
    push('EventsUpdated', { eventsUpdated: { ...event('e2', 'DELIVERED', '2025-01-01T12:00:02Z'), subscription: { __typename: 'WebhookSubscription', id: SUB } } });
    await tick();
    expect(eventIds(list.latest())).toEqual(['e2:DELIVERED', 'e1:DELIVERED']);
    expect(server.requests).toEqual(['SubscriptionEvents']);
    list.stop();
    live.stop();
  });

  it('refetches the first page when a new event arrives that it does not show', async () => {
    server.events = [event('e1', 'DELIVERED', '2025-01-01T12:00:01Z')];
    const list = watch(client.query(SubscriptionEventsQuery, { id: SUB, first: 25, after: null, status: null }));
    const live = watch(client.subscription(EventsUpdatedSubscription, { subscriptionId: SUB }));
    await tick();
    const fresh = event('e3', 'PENDING', '2025-01-01T12:00:03Z');
    server.events = [fresh, ...server.events];
    push('EventsUpdated', { eventsUpdated: { ...fresh, subscription: { __typename: 'WebhookSubscription', id: SUB } } });
    await tick();
    expect(server.requests).toEqual(['SubscriptionEvents', 'SubscriptionEvents']);
    expect(eventIds(list.latest())).toEqual(['e3:PENDING', 'e1:DELIVERED']);
    list.stop();
    live.stop();
  });

  it('leaves a status-filtered list alone when the event does not match its filter', async () => {
    server.events = [event('e1', 'FAILED', '2025-01-01T12:00:01Z')];
    const list = watch(client.query(SubscriptionEventsQuery, { id: SUB, first: 25, after: null, status: 'FAILED' }));
    const live = watch(client.subscription(EventsUpdatedSubscription, { subscriptionId: SUB }));
    await tick();
    push('EventsUpdated', { eventsUpdated: { ...event('e9', 'DELIVERED', '2025-01-01T12:00:09Z'), subscription: { __typename: 'WebhookSubscription', id: SUB } } });
    await tick();
    expect(server.requests).toEqual(['SubscriptionEvents']);
    list.stop();
    live.stop();
  });

  it('does not refetch the first page for an old event (a redelivery) that belongs on a later page', async () => {
    server.events = [event('e5', 'DELIVERED', '2025-01-01T12:00:05Z'), event('e4', 'DELIVERED', '2025-01-01T12:00:04Z')];
    server.hasNextPage = true;
    const list = watch(client.query(SubscriptionEventsQuery, { id: SUB, first: 2, after: null, status: null }));
    const live = watch(client.subscription(EventsUpdatedSubscription, { subscriptionId: SUB }));
    await tick();
    push('EventsUpdated', { eventsUpdated: { ...event('e1', 'DELIVERING', '2025-01-01T12:00:01Z'), subscription: { __typename: 'WebhookSubscription', id: SUB } } });
    await tick();
    expect(server.requests).toEqual(['SubscriptionEvents']);
    list.stop();
    live.stop();
  });

  it("makes a new attempt its subscription's last delivery", async () => {
    const list = watch(client.query(SubscriptionsQuery, { first: 50, after: null }));
    const live = watch(client.subscription(AttemptRecordedSubscription, {}));
    await tick();
    expect((list.latest()?.data as ReturnType<typeof subscriptionsPage>).webhookSubscriptions.edges[0]!.node.lastAttempt).toBeNull();
    push('AttemptRecorded', {
      deliveryAttemptRecorded: {
        __typename: 'DeliveryAttempt',
        id: 'a1',
        attemptNumber: 1,
        attemptedAt: '2025-01-01T12:00:05Z',
        durationMs: 42,
        success: true,
        responseStatus: 200,
        error: null,
        nextAttemptAt: null,
        event: { __typename: 'Event', id: 'e1', eventType: 'order.created', status: 'DELIVERED', attemptCount: 1, nextAttemptAt: null },
        subscription: { __typename: 'WebhookSubscription', id: SUB, name: 'orders' },
      },
    });
    await tick();
    const node = (list.latest()?.data as { webhookSubscriptions: { edges: { node: { lastAttempt: { id: string; responseStatus: number; event: { id: string } } | null } }[] } })
      .webhookSubscriptions.edges[0]!.node;
    expect(node.lastAttempt).toMatchObject({ id: 'a1', responseStatus: 200, event: { id: 'e1' } });
    expect(server.requests).toEqual(['Subscriptions']);
    list.stop();
    live.stop();
  });
});
