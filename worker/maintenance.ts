// The worker's periodic jobs. PostgreSQL is the source of truth: the sweeper re-enqueues
// what Redis lost; retention trims the attempt log.
import { Prisma } from '../core/db.ts';
import { enqueueDeliveries } from '../core/enqueue.ts';
import { uuidv7Floor } from '../core/ids.ts';
import { formatDuration } from '../core/schedule.ts';
import { MAX_STATS_HOURS, foldDeliveryTotals } from '../core/stats.ts';
import type { Services } from '../core/services.ts';
import { announceDisabled } from '../core/subscription-events.ts';

const SWEEP_BATCH = 1_000;
const RETENTION_BATCH = 5_000;

/**
 * Margin below the start of the oldest transaction open in the database, for the clock
 * stepping back. An event not committed yet has an id at or after its transaction's start
 * (hookd_event_id), so the mark never passes it.
 */
export const SWEEP_MARGIN_MS = 2_000;

/**
 * Without sight of every transaction (hookd's role cannot see other roles' sessions in
 * pg_stat_activity; grant it pg_read_all_stats), the mark stays this far behind PostgreSQL's
 * clock instead: longer than any insert takes to commit.
 */
export const SWEEP_LOOKBACK_MS = 5 * 60_000;

/** What one sweep read: the marks it read from and the due events it found. */
export interface SweepScan {
  /** The event mark: events open before their series' first attempt were read from this id on. */
  markedFrom: string;
  /** The retry mark: retries were read from this due time on, up to retriesUntil. */
  retriesFrom: Date;
  retriesUntil: Date;
  /** How far the marks may move (ms since the epoch, PostgreSQL's clock): no write still open began before. */
  openSince: number;
  /** The marks' version when read (null: no mark row, which is never moved). */
  version: string | null;
  /** The smallest id of an event read that is open before its series' first attempt (null: none). */
  firstOpen: string | null;
  /** The earliest due time of a retry read that is still open (null: none). */
  firstOpenRetry: Date | null;
  due: { id: string; attemptCount: number; stuck: boolean }[];
}

/** Where the event mark starts (and is read from when its row is missing): every id is at or after it. */
export const START_OF_IDS = '00000000-0000-0000-0000-000000000000';
/** Where the retry mark starts: every due time is at or after it. */
export const START_OF_TIME = new Date(0);

/**
 * Events that are due (PENDING or RETRYING, nextAttemptAt passed by more than a sweep
 * interval) on an ACTIVE subscription are enqueued again. The job id is the attempt's, so a
 * job Redis still holds is not duplicated. Events left DELIVERING by a worker that died are
 * handed back as RETRYING (and enqueued by a later sweep). Returns how many events it enqueued.
 * There is no index on status (it would cost every delivery far more than this costs per
 * sweep), so the sweep reads from two marks: events waiting for their series' first attempt
 * by primary key from the event mark, and events in their retry schedule by the due time of
 * their current attempt (a partial index on DeliveryAttempt) from the retry mark. A receiver
 * that keeps failing holds neither back for longer than an attempt takes.
 */
export async function sweep(services: Services): Promise<number> {
  const { config, db } = services;
  const now = Date.now();
  const scan = await scanForSweep(services, now);
  const stuck = scan.due.filter((event) => event.stuck).map((event) => event.id);
  // A delivery takes at most DELIVERY_TIMEOUT; twice that plus a sweep is surely abandoned.
  if (stuck.length > 0) await db.$executeRaw(sweepStatements.release(stuck, stuckBefore(config, now)));
  const due = scan.due.filter((event) => !event.stuck);
  // One job per attempt, under the attempt's id: a job Redis still holds is not added twice.
  await enqueueDeliveries(services, due.map((event) => ({ eventId: event.id, attempt: event.attemptCount + 1 })), { shared: false });
  await advanceSweepMark(services, scan);
  return due.length;
}

function stuckBefore(config: Services['config'], now: number): Date {
  return new Date(now - 2 * config.deliveryTimeoutMs - config.sweepIntervalMs);
}

/** A scan's rows; `firstOpen` is an event id (event scan) or a due time (retry scan). */
interface ScannedRow<Mark> {
  firstOpen: Mark | null;
  id: string | null;
  attemptCount: number | null;
  stuck: boolean | null;
}

/** Reads the marks, then the open events from them on: the due ones, and the first open one of each kind. */
export async function scanForSweep(services: Services, now = Date.now()): Promise<SweepScan> {
  const { config, db } = services;
  // Read before the scans: a reopening committed after this read changes the version, and a
  // write the scans cannot see yet was open then (or began later).
  const [mark] = await db.$queryRaw<{ openFrom: string | null; retryFrom: Date | null; version: string | null; openSince: Date; hidden: boolean }[]>(
    sweepStatements.mark(),
  );
  const markedFrom = mark!.openFrom ?? START_OF_IDS;
  const retriesFrom = mark!.retryFrom ?? START_OF_TIME;
  const openSince = mark!.openSince.getTime() - (mark!.hidden ? SWEEP_LOOKBACK_MS : SWEEP_MARGIN_MS);
  const dueBefore = new Date(now - config.sweepIntervalMs);
  const abandonedBefore = stuckBefore(config, now);
  const events = await db.$queryRaw<ScannedRow<string>[]>(sweepStatements.scanEvents(markedFrom, dueBefore, abandonedBefore, SWEEP_BATCH));
  // Retries are read up to dueBefore: one due later is not due yet (a release only moves an
  // event's own due time later), and the mark stops there, so a later sweep reads it.
  const retries = await db.$queryRaw<ScannedRow<Date>[]>(sweepStatements.scanRetries(retriesFrom, dueBefore, abandonedBefore, SWEEP_BATCH));
  const dueOf = (rows: ScannedRow<unknown>[]) =>
    rows.filter((row) => row.id !== null).map((row) => ({ id: row.id!, attemptCount: row.attemptCount!, stuck: row.stuck! }));
  return {
    markedFrom,
    retriesFrom,
    retriesUntil: dueBefore,
    openSince,
    version: mark!.version,
    firstOpen: events[0]?.firstOpen ?? null,
    firstOpenRetry: retries[0]?.firstOpen ?? null,
    due: [...dueOf(events), ...dueOf(retries)],
  };
}

/**
 * Moves the marks up to the first open event and retry the scans read, or to where the writes
 * still open began if that is lower, unless the version changed since the scan read it (an
 * event was opened again meanwhile, perhaps below a mark). Returns whether they moved.
 */
export async function advanceSweepMark(services: Services, scan: SweepScan): Promise<boolean> {
  if (scan.version === null) return false;
  const floor = uuidv7Floor(scan.openSince);
  const openFrom = scan.firstOpen !== null && scan.firstOpen < floor ? scan.firstOpen : floor;
  const retryFrom = new Date(Math.min(scan.firstOpenRetry?.getTime() ?? Infinity, scan.retriesUntil.getTime(), scan.openSince));
  return (await services.db.$executeRaw(sweepStatements.advance(openFrom, retryFrom, scan.version))) === 1;
}

/**
 * The open events of a scan (id, attemptCount, status, nextAttemptAt, updatedAt, active,
 * and "openAt", the mark's key) give the due ones, abandoned DELIVERING ones first, then
 * the oldest due, and the smallest key of an open one, on a row of its own if none is due.
 */
function dueAndFirstOpen(open: Prisma.Sql, firstOpen: Prisma.Sql, dueBefore: Date, stuckBefore: Date, limit: number): Prisma.Sql {
  return Prisma.sql`
    WITH open AS MATERIALIZED (${open}), due AS (
      SELECT id, "attemptCount", status = 'DELIVERING' AS stuck FROM open
      WHERE (status = 'DELIVERING' AND "updatedAt" < ${stuckBefore})
         OR (status IN ('PENDING', 'RETRYING') AND "nextAttemptAt" < ${dueBefore} AND active)
      ORDER BY status = 'DELIVERING' DESC, "nextAttemptAt" LIMIT ${limit}
    )
    SELECT (SELECT ${firstOpen} FROM open WHERE active OR status = 'DELIVERING') AS "firstOpen",
           due.id::text AS id, due."attemptCount", due.stuck
    FROM (VALUES (1)) AS one LEFT JOIN due ON true`;
}

/** The sweeper's statements (the benchmark times the scans on grown tables). */
export const sweepStatements = {
  /**
   * The marks, and the start of the oldest transaction of a client open in this database (or
   * now): hidden tells that a session of another role could not be seen.
   */
  mark: () => Prisma.sql`
    SELECT (SELECT "openFrom"::text FROM "SweepMark" WHERE id) AS "openFrom",
           (SELECT "retryFrom" FROM "SweepMark" WHERE id) AS "retryFrom",
           (SELECT version::text FROM "SweepMark" WHERE id) AS version,
           least(statement_timestamp(), min(a.xact_start) FILTER (WHERE a.backend_type = 'client backend')) AS "openSince",
           bool_or(a.backend_type IS NULL) IS TRUE AS hidden
    FROM pg_stat_activity a WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()`,
  /**
   * Events open before their series' first attempt, from the event mark on (by primary key).
   * (PostgreSQL 15 has no min(uuid); the text of a uuid sorts as its bytes under "C".)
   */
  scanEvents: (markedFrom: string, dueBefore: Date, stuckBefore: Date, limit: number) =>
    dueAndFirstOpen(
      Prisma.sql`
        SELECT e.id, e."attemptCount", e.status, e."nextAttemptAt", e."updatedAt", s.status = 'ACTIVE' AS active
        FROM "Event" e JOIN "WebhookSubscription" s ON s.id = e."subscriptionId"
        WHERE e.id >= ${markedFrom}::uuid AND e.status IN ('PENDING', 'RETRYING', 'DELIVERING') AND e."attemptCount" = e."seriesOffset"`,
      Prisma.sql`min(id::text COLLATE "C")`,
      dueBefore,
      stuckBefore,
      limit,
    ),
  /**
   * Events in their retry schedule, by the due time of the attempt that scheduled their next
   * one, from the retry mark up to dueBefore (the partial index on nextAttemptAt).
   */
  scanRetries: (retriesFrom: Date, dueBefore: Date, stuckBefore: Date, limit: number) =>
    dueAndFirstOpen(
      Prisma.sql`
        SELECT e.id, e."attemptCount", e.status, e."nextAttemptAt", e."updatedAt", a."nextAttemptAt" AS "retryAt", s.status = 'ACTIVE' AS active
        FROM "DeliveryAttempt" a
        JOIN "Event" e ON e.id = a."eventId" AND e."attemptCount" = a."attemptNumber"
        JOIN "WebhookSubscription" s ON s.id = e."subscriptionId"
        WHERE a."nextAttemptAt" >= ${retriesFrom} AND a."nextAttemptAt" < ${dueBefore}
          AND e.status IN ('RETRYING', 'DELIVERING') AND e."attemptCount" > e."seriesOffset"`,
      Prisma.sql`min("retryAt")`,
      dueBefore,
      stuckBefore,
      limit,
    ),
  advance: (openFrom: string, retryFrom: Date, version: string) => Prisma.sql`
    UPDATE "SweepMark" SET "openFrom" = ${openFrom}::uuid, "retryFrom" = ${retryFrom}, version = version + 1
    WHERE id AND version = ${version}::bigint`,
  /** By id, with the condition again: a worker that records meanwhile wins. */
  release: (ids: string[], stuckBefore: Date) => Prisma.sql`
    UPDATE "Event" SET status = 'RETRYING', "nextAttemptAt" = now(), "updatedAt" = now()
    WHERE id = ANY(${ids}::uuid[]) AND status = 'DELIVERING' AND "updatedAt" < ${stuckBefore}`,
};

/**
 * What retention deletes, a batch at a time, each read by an index from the old end of the
 * table (the benchmark and the tests check the plans on grown tables): a run with nothing to
 * delete reads next to nothing, however long the tables are.
 */
export const retentionStatements = {
  /** Attempts made before the cutoff, but not one that scheduled a retry still to come. */
  expiredAttempts: (cutoff: Date, limit: number) => Prisma.sql`
    SELECT a.id FROM "DeliveryAttempt" a WHERE a."attemptedAt" < ${cutoff}
      AND NOT (a."nextAttemptAt" IS NOT NULL AND EXISTS (
        SELECT 1 FROM "Event" e WHERE e.id = a."eventId" AND e."attemptCount" = a."attemptNumber"
          AND e."attemptCount" > e."seriesOffset" AND e.status IN ('RETRYING', 'DELIVERING')))
    LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
  /**
   * Finished events not changed since the cutoff. An event changes after it is created, so
   * "createdAt" bounds the read (its index); there is no index on "updatedAt" or status, which
   * keeps delivery's updates HOT. (An update stamped by a worker whose clock is behind can
   * leave "updatedAt" a little before "createdAt": that event goes once both have passed.)
   */
  expiredEvents: (cutoff: Date, limit: number) => Prisma.sql`
    SELECT id FROM "Event"
    WHERE "createdAt" < ${cutoff} AND "updatedAt" < ${cutoff} AND status IN ('DELIVERED', 'FAILED', 'FILTERED')
    LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
};

/**
 * Deletes attempts older than ATTEMPT_RETENTION, in batches, except the attempt that scheduled
 * an event's next one while that is still to come (a subscription PAUSED for days holds it): the
 * sweeper finds retries by it. Returns how many it deleted.
 */
export async function deleteExpiredAttempts(services: Services): Promise<number> {
  const cutoff = new Date(Date.now() - services.config.attemptRetentionMs);
  let total = 0;
  for (;;) {
    const deleted = await services.db.$executeRaw`
      DELETE FROM "DeliveryAttempt" WHERE id IN (${retentionStatements.expiredAttempts(cutoff, RETENTION_BATCH)})`;
    total += deleted;
    if (deleted < RETENTION_BATCH) return total;
  }
}

/**
 * Folds the event-count deltas the triggers on Event append (migration 20261128220000_event_counts)
 * into EventCount, so readers add up only a few seconds' worth. One statement: the deltas it
 * deletes are the ones it adds; deltas committed meanwhile, and any a concurrent fold (another
 * worker) took, are not in its snapshot or are skipped. Deltas of a deleted subscription are
 * dropped. Returns how many deltas it folded.
 */
export async function foldEventCounts(services: Services): Promise<number> {
  const rows = await services.db.$queryRaw<{ folded: number }[]>`
    WITH moved AS (
      DELETE FROM "EventCountDelta" RETURNING "subscriptionId", status, delta
    ), summed AS (
      -- An event passes through PENDING and DELIVERING between two folds: their net
      -- changes are mostly zero, and writing them was two thirds of the upserts of a fold.
      SELECT "subscriptionId", status, sum(delta) AS delta FROM moved GROUP BY 1, 2 HAVING sum(delta) <> 0
    ), added AS (
      INSERT INTO "EventCount" AS c ("subscriptionId", status, count)
      SELECT summed."subscriptionId", summed.status, summed.delta FROM summed
      WHERE EXISTS (SELECT 1 FROM "WebhookSubscription" s WHERE s.id = summed."subscriptionId")
      ORDER BY 1, 2
      ON CONFLICT ("subscriptionId", status) DO UPDATE SET count = c.count + excluded.count
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM moved)::int AS folded`;
  const folded = rows[0]?.folded ?? 0;
  if (folded > 0) await vacuumFolded(services, 'EventCountDelta');
  return folded;
}

/** Folds the logged changes to DeliveryMinute into the totals of all subscriptions (core/stats.ts). */
export async function foldTotals(services: Services): Promise<number> {
  const folded = await foldDeliveryTotals(services.db);
  if (folded > 0) await vacuumFolded(services, 'DeliveryTotalDelta');
  return folded;
}

const vacuumRefused = new Set<string>();

/**
 * A folded log's deleted rows stay as dead tuples until vacuumed, and readers scan the table:
 * at a few hundred statements a second it would grow by thousands of pages between autovacuum
 * runs. A VACUUM of a table this small takes a few ms and blocks no writer: the tables keep
 * their emptied pages (vacuum_truncate off, migration 20261130090000_delta_logs_keep_pages),
 * where cutting them off took a lock that held up every writer of events and attempts.
 */
async function vacuumFolded(services: Services, table: 'EventCountDelta' | 'DeliveryTotalDelta'): Promise<void> {
  try {
    await services.db.$executeRawUnsafe(`VACUUM "${table}"`);
  } catch (error) {
    // Only the table's owner may VACUUM it; autovacuum still does, later. Said once.
    if (!vacuumRefused.has(table)) services.log.warn(`cannot VACUUM ${table}; figures stay exact, reads slow down`, { error: (error as Error).message });
    vacuumRefused.add(table);
  }
}

/**
 * Deletes rollups and totals older than the longest stats window the API serves (30 days).
 * A subscription's minutes are kept an hour longer: the longest window's first hour may be
 * read as its hour row minus the minutes before the window (core/stats.ts).
 */
export async function deleteExpiredRollups(services: Services): Promise<number> {
  const minutes = await services.db.$executeRaw`
    DELETE FROM "DeliveryMinute" WHERE minute < now() - make_interval(hours => ${MAX_STATS_HOURS + 1})`;
  const hours = await services.db.$executeRaw`
    DELETE FROM "DeliveryHour" WHERE hour < now() - make_interval(hours => ${MAX_STATS_HOURS + 1})`;
  const totalMinutes = await services.db.$executeRaw`
    DELETE FROM "DeliveryTotalMinute" WHERE minute < now() - make_interval(hours => ${MAX_STATS_HOURS})`;
  const totalHours = await services.db.$executeRaw`
    DELETE FROM "DeliveryTotalHour" WHERE hour < now() - make_interval(hours => ${MAX_STATS_HOURS + 1})`;
  return minutes + hours + totalMinutes + totalHours;
}

/**
 * Deletes finished events (DELIVERED, FAILED, FILTERED) not touched for EVENT_RETENTION, with
 * their attempts, a batch at a time so no lock is held long. Returns how many it deleted.
 */
export async function deleteExpiredEvents(services: Services, batchSize = RETENTION_BATCH): Promise<number> {
  const cutoff = new Date(Date.now() - services.config.eventRetentionMs);
  let total = 0;
  for (;;) {
    const deleted = await services.db.$executeRaw`
      DELETE FROM "Event" WHERE id IN (${retentionStatements.expiredEvents(cutoff, batchSize)})`;
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

/**
 * Disables ACTIVE subscriptions whose every attempt has failed for AUTO_DISABLE_AFTER, and
 * publishes the change. Returns how many it disabled.
 */
export async function disableFailingSubscriptions(services: Services): Promise<number> {
  const since = new Date(Date.now() - services.config.autoDisableAfterMs);
  const disabled = await services.db.$queryRaw<{ id: string }[]>`
    UPDATE "WebhookSubscription" SET status = 'DISABLED', "updatedAt" = now()
    WHERE status = 'ACTIVE' AND "failingSince" <= ${since}
    RETURNING id::text AS id`;
  for (const { id } of disabled) {
    await announceDisabled(services, id, `every attempt has failed for ${formatDuration(services.config.autoDisableAfterMs)}`);
  }
  return disabled.length;
}
