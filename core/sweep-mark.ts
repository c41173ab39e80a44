// The sweeper's marks (migrations 20261129060000_sweep_mark, 20261129080000_sweep_retry_mark):
// no event open before its series' first attempt (PENDING, RETRYING or DELIVERING, on an ACTIVE
// subscription) has an id below the event mark, and no retry still open was due before the retry
// mark, so the sweeper reads only from there, however long the tables grow. The statements that
// open an older event again run these in the same transaction: they lower a mark and bump the
// version, so a sweep whose scan began before them does not move it past that event
// (worker/maintenance.ts).
import { Prisma } from './db.ts';

/** Lowers the mark to an event being opened again (redeliverEvent). */
export function lowerSweepMarkToEvent(eventId: string): Prisma.Sql {
  return Prisma.sql`
    UPDATE "SweepMark" SET "openFrom" = least("openFrom", ${eventId}::uuid), version = version + 1 WHERE id`;
}

/**
 * Lowers the marks to a subscription's oldest held event and retry, as it becomes ACTIVE again:
 * the sweeper does not count events held by a PAUSED or DISABLED subscription as open. A held
 * retry is found by the attempt that scheduled it, as the sweeper finds retries.
 * (PostgreSQL 15 has no min(uuid); the text of a uuid sorts as its bytes under "C".)
 */
export function lowerSweepMarkToHeldEvents(subscriptionId: string): Prisma.Sql {
  return Prisma.sql`
    UPDATE "SweepMark" m SET "openFrom" = least(m."openFrom", held.first), "retryFrom" = least(m."retryFrom", held."firstRetry"),
      version = m.version + 1
    FROM (SELECT min(e.id::text COLLATE "C") FILTER (WHERE e."attemptCount" = e."seriesOffset")::uuid AS first,
                 min(a."nextAttemptAt") AS "firstRetry"
          FROM "Event" e
          LEFT JOIN "DeliveryAttempt" a ON e."attemptCount" > e."seriesOffset" AND a."eventId" = e.id AND a."attemptNumber" = e."attemptCount"
          WHERE e."subscriptionId" = ${subscriptionId}::uuid AND e.status IN ('PENDING', 'RETRYING', 'DELIVERING')) held
    WHERE m.id AND (held.first IS NOT NULL OR held."firstRetry" IS NOT NULL)`;
}
