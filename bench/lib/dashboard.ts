// The dashboard's queries (web/src/documents.ts, without the client-only @_unmask), and for each
// the Prisma calls its resolvers make, replayed here with Prisma's query log on to capture the
// SQL the server runs, so that its EXPLAIN can be recorded.
import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
// node-postgres' own text form of a parameter (arrays, dates), for EXECUTE's literals.
// @ts-expect-error untyped module of pg's
import pgUtils from 'pg/lib/utils.js';
import { PrismaClient } from '../../core/generated/prisma/client.ts';
import { deliveryStats, deliveryTimeline, eventCountsBySubscription, lastAttemptBySubscription, statsBySubscription } from '../../core/stats.ts';

const FRAGMENTS = {
  AttemptSummaryFields: `fragment AttemptSummaryFields on DeliveryAttempt { id attemptNumber attemptedAt durationMs success responseStatus error nextAttemptAt }`,
  SubscriptionFields: `fragment SubscriptionFields on WebhookSubscription { id name targetUrl eventTypes status createdAt updatedAt }`,
  EventRowFields: `fragment EventRowFields on Event { id eventType status attemptCount nextAttemptAt createdAt updatedAt deliveredAt }`,
  LiveAttemptFields: `fragment LiveAttemptFields on DeliveryAttempt { ...AttemptSummaryFields event { id eventType status attemptCount nextAttemptAt } subscription { id name } }`,
  StatsFields: `fragment StatsFields on DeliveryStats { attempts succeeded failed successRate p50DurationMs p95DurationMs }`,
};
type Fragment = keyof typeof FRAGMENTS;
const doc = (query: string, fragments: Fragment[]) => [query, ...fragments.map((name) => FRAGMENTS[name])].join('\n');

type Db = PrismaClient;
const byNewestAttempt = [{ attemptedAt: 'desc' as const }, { id: 'desc' as const }];

export interface DashboardQuery {
  name: string;
  /** What the page shows with it. */
  what: string;
  /** One of the three the issue names (events page, an event's attempts, the 24 h success rate). */
  headline: boolean;
  document: string;
  variables: (ids: { subscriptionId: string; eventId: string }) => Record<string, unknown>;
  /** The resolvers' database calls for the same variables. */
  replay: (db: Db, ids: { subscriptionId: string; eventId: string }) => Promise<unknown>;
}

export const DASHBOARD_QUERIES: DashboardQuery[] = [
  {
    name: 'subscriptionEvents',
    what: "a subscription's first page of events (25)",
    headline: true,
    document: doc(
      `query SubscriptionEvents($id: ID!, $first: Int!, $after: String, $status: EventStatus) {
        webhookSubscription(id: $id) { id events(first: $first, after: $after, status: $status) { edges { node { ...EventRowFields } } pageInfo { hasNextPage endCursor } } } }`,
      ['EventRowFields'],
    ),
    variables: ({ subscriptionId }) => ({ id: subscriptionId, first: 25 }),
    replay: (db, { subscriptionId }) =>
      db.webhookSubscription.findUnique({
        where: { id: subscriptionId },
        include: { events: { take: 26, where: {}, orderBy: [{ subscriptionId: 'asc' }, { createdAt: 'desc' }, { id: 'desc' }] } },
      }),
  },
  {
    name: 'event',
    what: "an event with its attempts",
    headline: true,
    document: doc(
      `query Event($id: ID!) { event(id: $id) { ...EventRowFields idempotencyKey payload subscription { id name targetUrl }
        attempts { ...AttemptSummaryFields responseBody requestHeaders { name value } } } }`,
      ['EventRowFields', 'AttemptSummaryFields'],
    ),
    variables: ({ eventId }) => ({ id: eventId }),
    replay: (db, { eventId }) =>
      db.event.findUnique({ where: { id: eventId }, include: { subscription: true, attempts: { orderBy: { attemptNumber: 'asc' } } } }),
  },
  {
    name: 'subscriptions',
    what: 'the subscriptions page: last delivery and 24 h success rate of each',
    headline: true,
    document: doc(
      `query Subscriptions($first: Int!, $after: String) { webhookSubscriptions(first: $first, after: $after) {
        edges { node { ...SubscriptionFields lastAttempt { ...AttemptSummaryFields event { id } } stats(hours: 24) { ...StatsFields } } }
        pageInfo { hasNextPage endCursor } } }`,
      ['SubscriptionFields', 'AttemptSummaryFields', 'StatsFields'],
    ),
    variables: () => ({ first: 50 }),
    replay: async (db) => {
      const subscriptions = await db.webhookSubscription.findMany({ take: 51, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
      await lastAttemptBySubscription(db as never, subscriptions.map((s) => s.id));
      await statsBySubscription(db as never, subscriptions.map((s) => s.id), 24);
    },
  },
  {
    name: 'overview',
    what: '24 h success rate of all subscriptions',
    headline: true,
    document: doc(`query Overview { deliveryStats(hours: 24) { ...StatsFields } }`, ['StatsFields']),
    variables: () => ({}),
    replay: (db) => deliveryStats(db as never, null, 24),
  },
  {
    name: 'subscriptionMetrics',
    what: "a subscription's 24 h stats, per-minute timeline and event counts",
    headline: false,
    document: doc(
      `query SubscriptionMetrics($id: ID!) { webhookSubscription(id: $id) { id stats(hours: 24) { ...StatsFields }
        timeline(minutes: 60) { minute succeeded failed p50DurationMs p95DurationMs } eventCounts { status count } } }`,
      ['StatsFields'],
    ),
    variables: ({ subscriptionId }) => ({ id: subscriptionId }),
    replay: async (db, { subscriptionId }) => {
      await db.webhookSubscription.findUnique({ where: { id: subscriptionId } });
      await statsBySubscription(db as never, [subscriptionId], 24);
      await deliveryTimeline(db as never, subscriptionId, 60);
      await eventCountsBySubscription(db as never, [subscriptionId]);
    },
  },
  {
    name: 'subscriptionAttempts',
    what: "a subscription's latest 30 attempts",
    headline: false,
    document: doc(
      `query SubscriptionAttempts($id: ID!, $first: Int!) { webhookSubscription(id: $id) { id attempts(first: $first) { edges { node { ...LiveAttemptFields } } } } }`,
      ['LiveAttemptFields', 'AttemptSummaryFields'],
    ),
    variables: ({ subscriptionId }) => ({ id: subscriptionId, first: 30 }),
    replay: (db, { subscriptionId }) =>
      db.webhookSubscription.findUnique({
        where: { id: subscriptionId },
        include: { attempts: { take: 31, orderBy: byNewestAttempt, include: { event: true, subscription: true } } },
      }),
  },
  {
    name: 'recentAttempts',
    what: 'the live page: latest 30 attempts of all',
    headline: false,
    document: doc(`query RecentAttempts($first: Int!) { deliveryAttempts(first: $first) { edges { node { ...LiveAttemptFields } } } }`, [
      'LiveAttemptFields',
      'AttemptSummaryFields',
    ]),
    variables: () => ({ first: 30 }),
    replay: (db) => db.deliveryAttempt.findMany({ take: 31, orderBy: byNewestAttempt, include: { event: true, subscription: true } }),
  },
];

export interface CapturedStatement {
  sql: string;
  params: unknown[];
}

/** A Prisma client whose every statement is recorded, to replay the resolvers' calls with. */
export function capturingClient(databaseUrl: string) {
  const statements: CapturedStatement[] = [];
  const db = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: 2 }), log: [{ emit: 'event', level: 'query' }] });
  db.$on('query', (event: { query: string; params: string }) => {
    let params: unknown[] = [];
    try {
      params = JSON.parse(event.params) as unknown[];
    } catch {
      params = [];
    }
    statements.push({ sql: event.query, params });
  });
  return {
    db,
    /** The statements `run` makes. */
    async capture(run: (db: Db) => Promise<unknown>): Promise<CapturedStatement[]> {
      statements.length = 0;
      await run(db);
      return statements.splice(0);
    },
    close: () => db.$disconnect(),
  };
}

/**
 * `EXECUTE name(…)` of a statement prepared on `client` under `name`, with `params` as literals
 * of the types PostgreSQL deduced for them: EXPLAIN takes this form of a prepared statement.
 */
export async function executeWithLiterals(client: pg.Client, name: string, params: unknown[]): Promise<string> {
  const { rows } = await client.query<{ types: string[] }>('SELECT parameter_types::text[] AS types FROM pg_prepared_statements WHERE name = $1', [name]);
  const types = rows[0]!.types;
  const literals = params.map((value, index) => {
    const text = pgUtils.prepareValue(value) as string | null;
    return `${text === null ? 'NULL' : client.escapeLiteral(String(text))}::${types[index]}`;
  });
  return `EXECUTE ${name}(${literals.join(', ')})`;
}
