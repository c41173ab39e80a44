// The sweeper's mark (migration 20261129060000_sweep_mark): no open event (PENDING, RETRYING or
// DELIVERING, on an ACTIVE subscription) has an id below it, so the sweeper reads "Event" only
// from there, however long the table grows. The statements that open an older event again run
// these in the same transaction: they lower the mark and bump its version, so a sweep whose
// scan began before them does not move it past that event (worker/maintenance.ts).
import { Prisma } from './db.ts';

/** Lowers the mark to an event being opened again (redeliverEvent). */
export function lowerSweepMarkToEvent(eventId: string): Prisma.Sql {
  return Prisma.sql`
    UPDATE "SweepMark" SET "openFrom" = least("openFrom", ${eventId}::uuid), version = version + 1 WHERE id`;
}

/**
 * Lowers the mark to a subscription's oldest held event, as it becomes ACTIVE again: the
 * sweeper does not count events held by a PAUSED or DISABLED subscription as open.
 * (PostgreSQL 15 has no min(uuid); the text of a uuid sorts as its bytes under "C".)
 */
export function lowerSweepMarkToHeldEvents(subscriptionId: string): Prisma.Sql {
  return Prisma.sql`
    UPDATE "SweepMark" m SET "openFrom" = least(m."openFrom", held.first), version = m.version + 1
    FROM (SELECT min(e.id::text COLLATE "C")::uuid AS first FROM "Event" e
          WHERE e."subscriptionId" = ${subscriptionId}::uuid AND e.status IN ('PENDING', 'RETRYING', 'DELIVERING')) held
    WHERE m.id AND held.first IS NOT NULL`;
}
