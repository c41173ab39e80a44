-- Every delivery updates its event twice (claim, then record), changing "status" and
-- "nextAttemptAt". With an index on those columns each update had to write a new entry in
-- every index of "Event". Without it, and with free space left in each page, PostgreSQL
-- makes them HOT updates that touch no index: this halves PostgreSQL CPU per delivery.
-- The sweeper, which looked events up by status, scans the table instead, once per
-- SWEEP_INTERVAL (the growth stage of the benchmark times it at 1,000,000 events).
DROP INDEX "Event_status_nextAttemptAt_idx";

-- The Prisma schema cannot say this: keep 20% of each page free for HOT updates.
ALTER TABLE "Event" SET (fillfactor = 80);
