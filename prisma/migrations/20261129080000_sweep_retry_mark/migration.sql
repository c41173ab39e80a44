-- Retries no longer hold the sweeper mark on "Event" back. An event in its retry schedule is
-- found by its current attempt instead: the attempt row that scheduled the retry has its due
-- time in "nextAttemptAt", and the sweeper reads those from a second mark, "retryFrom", the due
-- time of the oldest retry still open (worker/maintenance.ts). Attempts are only inserted, so
-- this partial index costs one entry per failed attempt that is retried and nothing per success.
-- Building it blocks writes to "DeliveryAttempt" until done. With a large table, build it first
-- with CREATE INDEX CONCURRENTLY under the same name, and this does nothing.
CREATE INDEX IF NOT EXISTS "DeliveryAttempt_nextAttemptAt_idx" ON "DeliveryAttempt" ("nextAttemptAt") WHERE "nextAttemptAt" IS NOT NULL;

-- From the start of time: the first sweep reads every scheduled retry once.
ALTER TABLE "SweepMark" ADD COLUMN "retryFrom" TIMESTAMPTZ(3) NOT NULL DEFAULT 'epoch';
ALTER TABLE "SweepMark" ALTER COLUMN "retryFrom" DROP DEFAULT;
