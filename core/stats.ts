// Delivery aggregates for dashboards, computed in PostgreSQL (never by loading every row).
import type { Database, EventStatus } from './db.ts';
import { EventStatus as EventStatuses } from './db.ts';

export interface DeliveryStats {
  attempts: number;
  succeeded: number;
  failed: number;
  /** succeeded / attempts, or null with no attempts. */
  successRate: number | null;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
}

export interface TimelineBucket {
  minute: Date;
  succeeded: number;
  failed: number;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
}

export const MAX_STATS_HOURS = 720;
export const MAX_TIMELINE_MINUTES = 1440;

const EMPTY_STATS: DeliveryStats = { attempts: 0, succeeded: 0, failed: 0, successRate: null, p50DurationMs: null, p95DurationMs: null };

interface StatsRow {
  subscriptionId: string | null;
  attempts: number;
  succeeded: number;
  p50: number | null;
  p95: number | null;
}

function toStats(row: StatsRow | undefined): DeliveryStats {
  if (!row || row.attempts === 0) return { ...EMPTY_STATS };
  return {
    attempts: row.attempts,
    succeeded: row.succeeded,
    failed: row.attempts - row.succeeded,
    successRate: row.succeeded / row.attempts,
    p50DurationMs: row.p50,
    p95DurationMs: row.p95,
  };
}

/** Attempts of the last `hours`, per subscription, for many subscriptions in one query. */
export async function statsBySubscription(db: Database, subscriptionIds: readonly string[], hours: number): Promise<Map<string, DeliveryStats>> {
  const rows = await db.$queryRaw<StatsRow[]>`
    SELECT "subscriptionId"::text AS "subscriptionId", count(*)::int AS attempts,
           (count(*) FILTER (WHERE success))::int AS succeeded,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY "durationMs") AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY "durationMs") AS p95
    FROM "DeliveryAttempt"
    WHERE "subscriptionId" = ANY(${[...subscriptionIds]}::uuid[]) AND "attemptedAt" >= now() - make_interval(hours => ${hours})
    GROUP BY "subscriptionId"`;
  const byId = new Map(rows.map((row) => [row.subscriptionId!, row]));
  return new Map(subscriptionIds.map((id) => [id, toStats(byId.get(id))]));
}

/** Attempts of the last `hours`, of every subscription or of one. */
export async function deliveryStats(db: Database, subscriptionId: string | null, hours: number): Promise<DeliveryStats> {
  if (subscriptionId !== null) return (await statsBySubscription(db, [subscriptionId], hours)).get(subscriptionId)!;
  const rows = await db.$queryRaw<StatsRow[]>`
    SELECT NULL AS "subscriptionId", count(*)::int AS attempts, (count(*) FILTER (WHERE success))::int AS succeeded,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY "durationMs") AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY "durationMs") AS p95
    FROM "DeliveryAttempt" WHERE "attemptedAt" >= now() - make_interval(hours => ${hours})`;
  return toStats(rows[0]);
}

/** Per minute over the last `minutes` (oldest first, empty minutes included): outcomes and latency. */
export async function deliveryTimeline(db: Database, subscriptionId: string | null, minutes: number): Promise<TimelineBucket[]> {
  const rows = await db.$queryRaw<{ minute: Date; succeeded: number; failed: number; p50: number | null; p95: number | null }[]>`
    WITH window_ AS (
      SELECT date_trunc('minute', now()) - make_interval(mins => ${minutes - 1}) AS first_minute
    ), attempts AS (
      SELECT date_trunc('minute', a."attemptedAt") AS minute, a.success, a."durationMs"
      FROM "DeliveryAttempt" a, window_
      WHERE a."attemptedAt" >= window_.first_minute
        AND (${subscriptionId}::uuid IS NULL OR a."subscriptionId" = ${subscriptionId}::uuid)
    )
    SELECT m.minute,
           (count(a.minute) FILTER (WHERE a.success))::int AS succeeded,
           (count(a.minute) FILTER (WHERE NOT a.success))::int AS failed,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY a."durationMs") AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY a."durationMs") AS p95
    FROM window_, generate_series(window_.first_minute, date_trunc('minute', now()), interval '1 minute') AS m(minute)
    LEFT JOIN attempts a ON a.minute = m.minute
    GROUP BY m.minute ORDER BY m.minute`;
  return rows.map((row) => ({ minute: row.minute, succeeded: row.succeeded, failed: row.failed, p50DurationMs: row.p50, p95DurationMs: row.p95 }));
}

/** How many of each subscription's events are in each status (every status, zeros included). */
export async function eventCountsBySubscription(
  db: Database,
  subscriptionIds: readonly string[],
): Promise<Map<string, { status: EventStatus; count: number }[]>> {
  const rows = await db.$queryRaw<{ subscriptionId: string; status: EventStatus; count: number }[]>`
    SELECT "subscriptionId"::text AS "subscriptionId", status::text AS status, count(*)::int AS count
    FROM "Event" WHERE "subscriptionId" = ANY(${[...subscriptionIds]}::uuid[])
    GROUP BY "subscriptionId", status`;
  return new Map(
    subscriptionIds.map((id) => [
      id,
      Object.values(EventStatuses).map((status) => ({
        status,
        count: rows.find((row) => row.subscriptionId === id && row.status === status)?.count ?? 0,
      })),
    ]),
  );
}
