// The worker's periodic jobs. PostgreSQL is the source of truth: the sweeper re-enqueues
// what Redis lost; retention trims the attempt log.
import { Prisma } from '../core/db.ts';
import { enqueueDeliveries } from '../core/enqueue.ts';
import { formatDuration } from '../core/schedule.ts';
import { MAX_STATS_HOURS } from '../core/stats.ts';
import type { Services } from '../core/services.ts';
import { announceDisabled } from '../core/subscription-events.ts';

const SWEEP_BATCH = 1_000;
const RETENTION_BATCH = 5_000;

/**
 * Events that are due (PENDING or RETRYING, nextAttemptAt passed by more than a sweep
 * interval) on an ACTIVE subscription are enqueued again. The job id is the attempt's, so a
 * job Redis still holds is not duplicated. Events left DELIVERING by a worker that died are
 * handed back as RETRYING (and enqueued by a later sweep). Returns how many events it enqueued.
 * One scan of the table finds both: an index on status would cost every delivery far more than
 * this costs per sweep.
 */
export async function sweep(services: Services): Promise<number> {
  const { config, db } = services;
  const dueBefore = new Date(Date.now() - config.sweepIntervalMs);
  // A delivery takes at most DELIVERY_TIMEOUT; twice that plus a sweep is surely abandoned.
  const stuckBefore = new Date(Date.now() - 2 * config.deliveryTimeoutMs - config.sweepIntervalMs);
  const found = await db.$queryRaw<{ id: string; attemptCount: number; stuck: boolean }[]>(
    sweepStatements.scan(dueBefore, stuckBefore, SWEEP_BATCH),
  );
  const stuck = found.filter((event) => event.stuck).map((event) => event.id);
  if (stuck.length > 0) await db.$executeRaw(sweepStatements.release(stuck, stuckBefore));
  const due = found.filter((event) => !event.stuck);
  // One job per attempt, under the attempt's id: a job Redis still holds is not added twice.
  await enqueueDeliveries(services, due.map((event) => ({ eventId: event.id, attempt: event.attemptCount + 1 })), { shared: false });
  return due.length;
}

/** The sweeper's statements (the benchmark times the scan on grown tables). */
export const sweepStatements = {
  /** Abandoned DELIVERING events first, then due ones, oldest first. */
  scan: (dueBefore: Date, stuckBefore: Date, limit: number) => Prisma.sql`
    SELECT e.id, e."attemptCount", e.status = 'DELIVERING' AS stuck
    FROM "Event" e JOIN "WebhookSubscription" s ON s.id = e."subscriptionId"
    WHERE (e.status = 'DELIVERING' AND e."updatedAt" < ${stuckBefore})
       OR (e.status IN ('PENDING', 'RETRYING') AND e."nextAttemptAt" < ${dueBefore} AND s.status = 'ACTIVE')
    ORDER BY e.status = 'DELIVERING' DESC, e."nextAttemptAt" LIMIT ${limit}`,
  /** By id, with the condition again: a worker that records meanwhile wins. */
  release: (ids: string[], stuckBefore: Date) => Prisma.sql`
    UPDATE "Event" SET status = 'RETRYING', "nextAttemptAt" = now(), "updatedAt" = now()
    WHERE id = ANY(${ids}::uuid[]) AND status = 'DELIVERING' AND "updatedAt" < ${stuckBefore}`,
};

/** Deletes attempts older than ATTEMPT_RETENTION, in batches. Returns how many it deleted. */
export async function deleteExpiredAttempts(services: Services): Promise<number> {
  const cutoff = new Date(Date.now() - services.config.attemptRetentionMs);
  let total = 0;
  for (;;) {
    const deleted = await services.db.$executeRaw`
      DELETE FROM "DeliveryAttempt" WHERE id IN (
        SELECT id FROM "DeliveryAttempt" WHERE "attemptedAt" < ${cutoff} LIMIT ${RETENTION_BATCH} FOR UPDATE SKIP LOCKED)`;
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
      SELECT "subscriptionId", status, sum(delta) AS delta FROM moved GROUP BY 1, 2
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
  // The deleted rows stay as dead tuples until vacuumed, and readers scan the table: at a few
  // hundred statements a second it would grow by thousands of pages between autovacuum runs.
  // A VACUUM of a table this small takes a few ms and blocks no writer.
  if (folded > 0) {
    try {
      await services.db.$executeRawUnsafe('VACUUM "EventCountDelta"');
    } catch (error) {
      // Only the table's owner may VACUUM it; autovacuum still does, later. Said once.
      if (!vacuumRefused) services.log.warn('cannot VACUUM EventCountDelta; counts stay exact, reads slow down', { error: (error as Error).message });
      vacuumRefused = true;
    }
  }
  return folded;
}

let vacuumRefused = false;

/** Deletes per-minute rollups older than the longest stats window the API serves (30 days). */
export async function deleteExpiredRollups(services: Services): Promise<number> {
  const minutes = await services.db.$executeRaw`
    DELETE FROM "DeliveryMinute" WHERE minute < now() - make_interval(hours => ${MAX_STATS_HOURS})`;
  const hours = await services.db.$executeRaw`
    DELETE FROM "DeliveryHour" WHERE hour < now() - make_interval(hours => ${MAX_STATS_HOURS + 1})`;
  return minutes + hours;
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
      DELETE FROM "Event" WHERE id IN (
        SELECT id FROM "Event" WHERE status IN ('DELIVERED', 'FAILED', 'FILTERED') AND "updatedAt" < ${cutoff}
        LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)`;
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

/** Runs `task` every `intervalMs`, never two at once; errors are logged, not fatal. A `quiet` task's counts are debug lines. */
export function every(
  services: Services,
  name: string,
  intervalMs: number,
  task: () => Promise<number>,
  { quiet = false }: { quiet?: boolean } = {},
): () => Promise<void> {
  let running: Promise<void> | null = null;
  const run = () => {
    if (running) return;
    running = task()
      .then((count) => {
        if (count > 0) services.log[quiet ? 'debug' : 'info'](`${name} done`, { count });
      })
      .catch((error) => services.log.error(`${name} failed`, { error: (error as Error).message }))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  run();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
