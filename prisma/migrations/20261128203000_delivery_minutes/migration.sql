-- Per-minute delivery rollups: the dashboards read aggregates over hours (24 h success rate,
-- p50 and p95) from at most 1,440 rows per subscription and day, never from every attempt.
-- The worker adds to them in the statement that records attempts. They outlive the attempt
-- log (ATTEMPT_RETENTION) and are kept 30 days, the longest window the API serves.
CREATE TABLE "DeliveryMinute" (
    "subscriptionId" UUID NOT NULL,
    "minute" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL,
    "succeeded" INTEGER NOT NULL,
    "durationHistogram" INTEGER[],

    CONSTRAINT "DeliveryMinute_pkey" PRIMARY KEY ("subscriptionId","minute")
);

CREATE INDEX "DeliveryMinute_minute_idx" ON "DeliveryMinute"("minute");

ALTER TABLE "DeliveryMinute" ADD CONSTRAINT "DeliveryMinute_subscriptionId_fkey" FOREIGN KEY ("subscriptionId") REFERENCES "WebhookSubscription"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The attempts already recorded. Bucket i counts durations up to the i-th bound of
-- core/duration-histogram.ts (width_bucket with each bound plus one, as durations are whole ms).
INSERT INTO "DeliveryMinute" ("subscriptionId", "minute", "attempts", "succeeded", "durationHistogram")
SELECT "subscriptionId", date_trunc('minute', "attemptedAt"), count(*)::int, (count(*) FILTER (WHERE success))::int, ARRAY[
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 0)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 1)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 2)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 3)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 4)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 5)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 6)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 7)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 8)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 9)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 10)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 11)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 12)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 13)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 14)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 15)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 16)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 17)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 18)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 19)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 20)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 21)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 22)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 23)::int,
    count(*) FILTER (WHERE width_bucket("durationMs", ARRAY[2,3,4,6,9,14,21,31,51,81,131,201,301,501,801,1301,2001,3001,5001,8001,13001,20001,30001,60001]) = 24)::int
  ]
FROM "DeliveryAttempt"
GROUP BY 1, 2;
