// Delivery aggregates for dashboards, computed in PostgreSQL from per-minute rollups (never by
// loading every attempt).
import { ATTEMPT_COLUMNS, Prisma, columnList, type Database, type DeliveryAttempt, type EventStatus } from './db.ts';
import { DURATION_BUCKETS, addedHistogramsSql, histogramQuantile } from './duration-histogram.ts';
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

interface RollupRow {
  subscriptionId: string | null;
  attempts: number;
  succeeded: number;
  histogram: number[] | null;
}

/**
 * Figures from summed rollups. A window's first hour may come as its hour row minus minutes,
 * and a minute recorded hours late (after its hour's last fold) is in the minutes only: such
 * a sum can fall below zero, which is shown as none rather than as a negative count.
 */
function toStats(row: RollupRow | undefined): DeliveryStats {
  if (!row || row.attempts <= 0) return { ...EMPTY_STATS };
  const histogram = (row.histogram ?? []).map((count) => Math.max(0, count));
  const succeeded = Math.min(Math.max(0, row.succeeded), row.attempts);
  return {
    attempts: row.attempts,
    succeeded,
    failed: row.attempts - succeeded,
    successRate: succeeded / row.attempts,
    p50DurationMs: histogramQuantile(histogram, 0.5),
    p95DurationMs: histogramQuantile(histogram, 0.95),
  };
}

/**
 * Sums of the rollups' histograms, bucket by bucket (one sum per bucket is what stays fast);
 * `sign`, a column of 1 or -1 that each row's counts are multiplied by.
 */
const histogramSum = (sign?: string) =>
  Prisma.raw(
    `ARRAY[${Array.from({ length: DURATION_BUCKETS }, (_, index) => `coalesce(sum(${sign ? `${sign} * ` : ''}"durationHistogram"[${index + 1}]), 0)::int`).join(', ')}]`,
  );
const HISTOGRAM_SUM = histogramSum();

/**
 * The first minute of a window of `hours` ending `asOf` (null: now): aggregates come from
 * per-minute rollups (DeliveryMinute), so windows are whole minutes and durations quantiles of
 * their histograms.
 */
const windowStart = (hours: number, asOf: Date | null = null) =>
  Prisma.sql`date_trunc('minute', coalesce(${asOf}::timestamptz, now()) - make_interval(hours => ${hours}))`;

/**
 * The rollups that cover the window of `hours`, as a CTE named `rollups`: the hours folded in
 * DeliveryHour (the one in progress up to the fold mark), the few minutes since the fold mark
 * from DeliveryMinute, and the window's partial first hour whichever way reads fewer minute
 * rows: its minutes in the window, or, when it began less than half an hour before the window
 * and is folded, its hour row minus its minutes before the window (negated rows). So a 24 h
 * window reads about 24 hour rows and at most about 37 minute rows per subscription, not 1,440.
 * The bounds are chosen once per statement and make the unused scans' ranges empty (the
 * window is materialized, or the fold mark's lookup is planned once per use of it).
 */
function windowRollups(hours: number, subscriptionIds: readonly string[], asOf: Date | null): Prisma.Sql {
  const only = Prisma.sql`"subscriptionId" = ANY(${[...subscriptionIds]}::uuid[])`;
  return Prisma.sql`
    WITH window_ AS MATERIALIZED (
      SELECT start, date_trunc('hour', start) AS start_hour, date_trunc('hour', start + interval '59 minutes') AS first_hour,
             coalesce((SELECT "foldedUntil" FROM "DeliveryHourFold" WHERE id), '-infinity'::timestamptz) AS folded_until
      FROM (SELECT ${windowStart(hours, asOf)} AS start) AS start_
    ), subtract AS (
      SELECT *, start > start_hour AND start - start_hour < interval '30 minutes' AND first_hour <= folded_until AS from_hour_row
      FROM window_
    ), bounds AS (
      SELECT start, first_hour, folded_until,
             CASE WHEN from_hour_row THEN start_hour ELSE first_hour END AS hours_from,
             CASE WHEN from_hour_row THEN start_hour ELSE start END AS minutes_from,
             CASE WHEN from_hour_row THEN start ELSE first_hour END AS minutes_until,
             from_hour_row
      FROM subtract
    ), rollups AS (
      SELECT "subscriptionId", 1 AS sign, attempts, succeeded, "durationHistogram" FROM "DeliveryHour", bounds
      WHERE ${only} AND hour >= bounds.hours_from AND hour < bounds.folded_until
      UNION ALL
      SELECT "subscriptionId", CASE WHEN bounds.from_hour_row THEN -1 ELSE 1 END, attempts, succeeded, "durationHistogram"
      FROM "DeliveryMinute", bounds
      WHERE ${only} AND minute >= bounds.minutes_from AND minute < bounds.minutes_until
      UNION ALL
      SELECT "subscriptionId", 1, attempts, succeeded, "durationHistogram" FROM "DeliveryMinute", bounds
      WHERE ${only} AND minute >= greatest(bounds.folded_until, bounds.first_hour)
    )`;
}

/**
 * Attempts of the last `hours`, per subscription, for many subscriptions in one query. `asOf`
 * moves the window's start back (tests use it to place the start within an hour); the window
 * always runs to the latest rollup.
 */
export async function statsBySubscription(
  db: Database,
  subscriptionIds: readonly string[],
  hours: number,
  asOf: Date | null = null,
): Promise<Map<string, DeliveryStats>> {
  const rows = await db.$queryRaw<RollupRow[]>`
    ${windowRollups(hours, subscriptionIds, asOf)}
    SELECT "subscriptionId"::text AS "subscriptionId", sum(sign * attempts)::int AS attempts, sum(sign * succeeded)::int AS succeeded,
           ${histogramSum('sign')} AS histogram
    FROM rollups GROUP BY "subscriptionId"`;
  const byId = new Map(rows.map((row) => [row.subscriptionId!, row]));
  return new Map(subscriptionIds.map((id) => [id, toStats(byId.get(id))]));
}

/**
 * Attempts of the last `hours`, of every subscription or of one. Every subscription's come
 * from the totals of all of them (DeliveryTotalHour for the whole hours of the window,
 * DeliveryTotalMinute for the minutes before the first, and the changes not folded yet): about
 * 24 + 60 rows and a few seconds of changes, however many subscriptions there are.
 */
export async function deliveryStats(db: Database, subscriptionId: string | null, hours: number): Promise<DeliveryStats> {
  if (subscriptionId !== null) return (await statsBySubscription(db, [subscriptionId], hours)).get(subscriptionId)!;
  const rows = await db.$queryRaw<RollupRow[]>`
    WITH bounds AS (
      SELECT start, date_trunc('hour', start + interval '59 minutes') AS first_hour FROM (SELECT ${windowStart(hours)} AS start) AS window_
    ), rollups AS (
      SELECT attempts, succeeded, "durationHistogram" FROM "DeliveryTotalHour", bounds WHERE hour >= bounds.first_hour
      UNION ALL
      SELECT attempts, succeeded, "durationHistogram" FROM "DeliveryTotalMinute", bounds
      WHERE minute >= bounds.start AND minute < bounds.first_hour
      UNION ALL
      SELECT attempts, succeeded, "durationHistogram" FROM "DeliveryTotalDelta", bounds WHERE minute >= bounds.start
    )
    SELECT NULL AS "subscriptionId", coalesce(sum(attempts), 0)::int AS attempts, coalesce(sum(succeeded), 0)::int AS succeeded,
           ${HISTOGRAM_SUM} AS histogram
    FROM rollups`;
  return toStats(rows[0]);
}

/**
 * Folds the changes DeliveryMinute's triggers logged (migration 20261129120000_delivery_totals;
 * one row per minute per statement since 20261130120000_delivery_total_delta_per_statement)
 * into the per-minute and per-hour totals of all subscriptions, and deletes them, in one
 * statement: a reader sees each change either logged or folded, never both. The worker runs it
 * every few seconds; changes older than the longest stats window are dropped (their rows are
 * gone too). Returns how many logged changes it folded.
 */
export async function foldDeliveryTotals(db: Database): Promise<number> {
  const rows = await db.$queryRaw<{ folded: number }[]>`
    WITH moved AS (
      DELETE FROM "DeliveryTotalDelta" RETURNING minute, attempts, succeeded, "durationHistogram"
    ), summed AS (
      SELECT minute, sum(attempts)::int AS attempts, sum(succeeded)::int AS succeeded, ${HISTOGRAM_SUM} AS "durationHistogram"
      FROM moved WHERE minute >= now() - make_interval(hours => ${MAX_STATS_HOURS}) GROUP BY minute
    ), minutes AS (
      INSERT INTO "DeliveryTotalMinute" AS m (minute, attempts, succeeded, "durationHistogram")
      SELECT minute, attempts, succeeded, "durationHistogram" FROM summed ORDER BY minute
      ON CONFLICT (minute) DO UPDATE SET attempts = m.attempts + excluded.attempts, succeeded = m.succeeded + excluded.succeeded,
        "durationHistogram" = ${Prisma.raw(addedHistogramsSql('m'))}
      RETURNING 1
    ), hours AS (
      INSERT INTO "DeliveryTotalHour" AS h (hour, attempts, succeeded, "durationHistogram")
      SELECT date_trunc('hour', minute), sum(attempts)::int, sum(succeeded)::int, ${HISTOGRAM_SUM} FROM summed GROUP BY 1 ORDER BY 1
      ON CONFLICT (hour) DO UPDATE SET attempts = h.attempts + excluded.attempts, succeeded = h.succeeded + excluded.succeeded,
        "durationHistogram" = ${Prisma.raw(addedHistogramsSql('h'))}
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM moved)::int AS folded`;
  return rows[0]?.folded ?? 0;
}

/**
 * Minutes this old are folded: older than any attempt lasts (DELIVERY_TIMEOUT is at most 5
 * minutes), so the attempts that started in them are recorded by then.
 */
const FOLD_LAG = Prisma.raw(`interval '6 minutes'`);
/** Each fold recomputes the last few hours it folded, taking in attempts recorded late (a worker that waited out a PostgreSQL outage). */
const REFOLD = Prisma.raw(`interval '3 hours'`);

/**
 * Folds the per-minute rollups into DeliveryHour up to FOLD_LAG ago (the worker runs it every
 * minute), the hour in progress included: readers then add at most a few minutes of
 * DeliveryMinute rows after the fold mark, not up to 70. Idempotent: an hour is recomputed from
 * its minutes, never added to. Folds take turns (an advisory lock), each reading what the one
 * before wrote and folding as far or further, since the hour in progress is rewritten by each.
 * `all`: every hour the minutes hold, not just the last few (for minutes written into the past,
 * as a backfill or the benchmark's pre-fill does). Returns how many hour rows it wrote.
 */
export async function foldHourlyRollups(db: Database, { all = false }: { all?: boolean } = {}): Promise<number> {
  return db.$transaction(
    async (tx) => {
      await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext('hookd:hour-fold'))::text`;
      // clock_timestamp(), not now(): the time the lock was had, so a later turn folds further.
      const rows = await tx.$queryRaw<{ hours: number }[]>`
        WITH bounds AS (
          SELECT coalesce(
                   (SELECT date_trunc('hour', "foldedUntil" - ${REFOLD}) FROM "DeliveryHourFold" WHERE id AND NOT ${all}),
                   (SELECT date_trunc('hour', min(minute)) FROM "DeliveryMinute")
                 ) AS since,
                 date_trunc('minute', clock_timestamp() - ${FOLD_LAG}) AS until
        ), folded AS (
          INSERT INTO "DeliveryHour" AS h ("subscriptionId", hour, attempts, succeeded, "durationHistogram")
          SELECT "subscriptionId", date_trunc('hour', minute), sum(attempts)::int, sum(succeeded)::int, ${HISTOGRAM_SUM}
          FROM "DeliveryMinute", bounds WHERE minute >= bounds.since AND minute < bounds.until
          GROUP BY 1, 2 ORDER BY 1, 2
          ON CONFLICT ("subscriptionId", hour) DO UPDATE
            SET attempts = excluded.attempts, succeeded = excluded.succeeded, "durationHistogram" = excluded."durationHistogram"
          RETURNING 1
        ), marked AS (
          INSERT INTO "DeliveryHourFold" AS f (id, "foldedUntil") SELECT true, until FROM bounds
          ON CONFLICT (id) DO UPDATE SET "foldedUntil" = greatest(f."foldedUntil", excluded."foldedUntil")
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM folded)::int AS hours`;
      return rows[0]?.hours ?? 0;
    },
    // A fold of many busy subscriptions can outlast Prisma's default of 5 s.
    { maxWait: 10_000, timeout: 120_000 },
  );
}

/** Per minute over the last `minutes` (oldest first, empty minutes included): outcomes and latency. */
export async function deliveryTimeline(db: Database, subscriptionId: string | null, minutes: number): Promise<TimelineBucket[]> {
  // The window's rows first, by index (a subscription's minutes, or the totals of all of them
  // and the changes not folded yet), then one row per minute of the window. (A join condition
  // "id IS NULL OR subscriptionId = id" could use no index: it read every minute the
  // subscription ever had.)
  const source =
    subscriptionId === null
      ? Prisma.sql`
        SELECT r.minute, r.attempts, r.succeeded, r."durationHistogram" FROM "DeliveryTotalMinute" r, window_ WHERE r.minute >= window_.first_minute
        UNION ALL
        SELECT r.minute, r.attempts, r.succeeded, r."durationHistogram" FROM "DeliveryTotalDelta" r, window_ WHERE r.minute >= window_.first_minute`
      : Prisma.sql`
        SELECT r.minute, r.attempts, r.succeeded, r."durationHistogram" FROM "DeliveryMinute" r, window_
        WHERE r."subscriptionId" = ${subscriptionId}::uuid AND r.minute >= window_.first_minute`;
  const rows = await db.$queryRaw<{ minute: Date; attempts: number; succeeded: number; histogram: number[] | null }[]>`
    WITH window_ AS (SELECT date_trunc('minute', now()) - make_interval(mins => ${minutes - 1}) AS first_minute),
    r AS (${source})
    SELECT m.minute, coalesce(sum(r.attempts), 0)::int AS attempts, coalesce(sum(r.succeeded), 0)::int AS succeeded, ${HISTOGRAM_SUM} AS histogram
    FROM window_, generate_series(window_.first_minute, date_trunc('minute', now()), interval '1 minute') AS m(minute)
    LEFT JOIN r ON r.minute = m.minute
    GROUP BY m.minute ORDER BY m.minute`;
  return rows.map((row) => ({
    minute: row.minute,
    succeeded: row.succeeded,
    failed: row.attempts - row.succeeded,
    p50DurationMs: histogramQuantile(row.histogram ?? [], 0.5),
    p95DurationMs: histogramQuantile(row.histogram ?? [], 0.95),
  }));
}

/** How many of each subscription's events are in each status (every status, zeros included). */
export async function eventCountsBySubscription(
  db: Database,
  subscriptionIds: readonly string[],
): Promise<Map<string, { status: EventStatus; count: number }[]>> {
  // The folded counts plus the deltas not folded yet (see the event_counts migration).
  const rows = await db.$queryRaw<{ subscriptionId: string; status: EventStatus; count: number }[]>`
    SELECT "subscriptionId"::text AS "subscriptionId", status::text AS status, sum(count)::int AS count
    FROM (
      SELECT "subscriptionId", status, count FROM "EventCount" WHERE "subscriptionId" = ANY(${[...subscriptionIds]}::uuid[])
      UNION ALL
      SELECT "subscriptionId", status, delta FROM "EventCountDelta" WHERE "subscriptionId" = ANY(${[...subscriptionIds]}::uuid[])
    ) AS counts
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

/**
 * Each subscription's most recent attempt, for many subscriptions in one query: one probe of its
 * (subscriptionId, attemptedAt, id) index per subscription (LATERAL ... LIMIT 1), never a read
 * of all their attempts.
 *
 * The subscription is matched by a range of one value, not by `=`, and the order names it first:
 * with `=` the planner treats the subscription as a constant and drops it from the order, and
 * with few subscriptions (each holding a large share of the attempts) it then preferred the
 * global attemptedAt index walked backward, which for a quiet subscription passes every newer
 * attempt of the others (the subscriptions page took 200 ms at 3 million attempts). Only the
 * subscription's own index gives this order.
 */
export async function lastAttemptBySubscription(db: Database, subscriptionIds: readonly string[]): Promise<Map<string, DeliveryAttempt | null>> {
  const rows = await db.$queryRaw<DeliveryAttempt[]>`
    SELECT ${Prisma.raw(columnList(ATTEMPT_COLUMNS, 'a'))} FROM unnest(${[...subscriptionIds]}::uuid[]) AS s(id)
    CROSS JOIN LATERAL (
      SELECT * FROM "DeliveryAttempt" WHERE "subscriptionId" >= s.id AND "subscriptionId" <= s.id ORDER BY "subscriptionId", "attemptedAt" DESC, id DESC LIMIT 1
    ) a`;
  const byId = new Map(rows.map((row) => [row.subscriptionId, row]));
  return new Map(subscriptionIds.map((id) => [id, byId.get(id) ?? null]));
}
