-- Each statement that changes DeliveryMinute (the worker records attempts with one) now logs
-- its net change per minute as one row of DeliveryTotalDelta, not two rows (after and before)
-- per subscription minute it changed. With 1,000 busy subscriptions a record statement changes
-- about a dozen subscription minutes: the log grew by 24 rows per statement, and the worker
-- summed thousands of histograms every 2 seconds (about 28 ms per fold, a burst of PostgreSQL
-- work that live updates waited behind). Summed in the trigger, the statement costs the same
-- (measured: 1.0 ms for an upsert of 12 minutes either way) and the fold about a tenth.
-- Readers and the fold add up rows of either kind alike.
-- (Function bodies use U&-strings with 003B for the semicolon: the offline migration engine
-- splits scripts at every semicolon, even inside a function body.)
CREATE OR REPLACE FUNCTION "hookd_total_inserted_minutes"() RETURNS trigger LANGUAGE plpgsql AS U&'
BEGIN
  INSERT INTO "DeliveryTotalDelta" ("minute", "attempts", "succeeded", "durationHistogram")
  SELECT "minute", sum("attempts"), sum("succeeded"), ARRAY[coalesce(sum("durationHistogram"[1]), 0)::int, coalesce(sum("durationHistogram"[2]), 0)::int, coalesce(sum("durationHistogram"[3]), 0)::int, coalesce(sum("durationHistogram"[4]), 0)::int, coalesce(sum("durationHistogram"[5]), 0)::int, coalesce(sum("durationHistogram"[6]), 0)::int, coalesce(sum("durationHistogram"[7]), 0)::int, coalesce(sum("durationHistogram"[8]), 0)::int, coalesce(sum("durationHistogram"[9]), 0)::int, coalesce(sum("durationHistogram"[10]), 0)::int, coalesce(sum("durationHistogram"[11]), 0)::int, coalesce(sum("durationHistogram"[12]), 0)::int, coalesce(sum("durationHistogram"[13]), 0)::int, coalesce(sum("durationHistogram"[14]), 0)::int, coalesce(sum("durationHistogram"[15]), 0)::int, coalesce(sum("durationHistogram"[16]), 0)::int, coalesce(sum("durationHistogram"[17]), 0)::int, coalesce(sum("durationHistogram"[18]), 0)::int, coalesce(sum("durationHistogram"[19]), 0)::int, coalesce(sum("durationHistogram"[20]), 0)::int, coalesce(sum("durationHistogram"[21]), 0)::int, coalesce(sum("durationHistogram"[22]), 0)::int, coalesce(sum("durationHistogram"[23]), 0)::int, coalesce(sum("durationHistogram"[24]), 0)::int, coalesce(sum("durationHistogram"[25]), 0)::int]
  FROM inserted_minutes GROUP BY 1\003B
  RETURN NULL\003B
END';
CREATE OR REPLACE FUNCTION "hookd_total_updated_minutes"() RETURNS trigger LANGUAGE plpgsql AS U&'
BEGIN
  INSERT INTO "DeliveryTotalDelta" ("minute", "attempts", "succeeded", "durationHistogram")
  SELECT "minute", sum(sign * "attempts"), sum(sign * "succeeded"), ARRAY[coalesce(sum(sign * "durationHistogram"[1]), 0)::int, coalesce(sum(sign * "durationHistogram"[2]), 0)::int, coalesce(sum(sign * "durationHistogram"[3]), 0)::int, coalesce(sum(sign * "durationHistogram"[4]), 0)::int, coalesce(sum(sign * "durationHistogram"[5]), 0)::int, coalesce(sum(sign * "durationHistogram"[6]), 0)::int, coalesce(sum(sign * "durationHistogram"[7]), 0)::int, coalesce(sum(sign * "durationHistogram"[8]), 0)::int, coalesce(sum(sign * "durationHistogram"[9]), 0)::int, coalesce(sum(sign * "durationHistogram"[10]), 0)::int, coalesce(sum(sign * "durationHistogram"[11]), 0)::int, coalesce(sum(sign * "durationHistogram"[12]), 0)::int, coalesce(sum(sign * "durationHistogram"[13]), 0)::int, coalesce(sum(sign * "durationHistogram"[14]), 0)::int, coalesce(sum(sign * "durationHistogram"[15]), 0)::int, coalesce(sum(sign * "durationHistogram"[16]), 0)::int, coalesce(sum(sign * "durationHistogram"[17]), 0)::int, coalesce(sum(sign * "durationHistogram"[18]), 0)::int, coalesce(sum(sign * "durationHistogram"[19]), 0)::int, coalesce(sum(sign * "durationHistogram"[20]), 0)::int, coalesce(sum(sign * "durationHistogram"[21]), 0)::int, coalesce(sum(sign * "durationHistogram"[22]), 0)::int, coalesce(sum(sign * "durationHistogram"[23]), 0)::int, coalesce(sum(sign * "durationHistogram"[24]), 0)::int, coalesce(sum(sign * "durationHistogram"[25]), 0)::int]
  FROM (
    SELECT 1 AS sign, "minute", "attempts", "succeeded", "durationHistogram" FROM minutes_after
    UNION ALL
    SELECT -1, "minute", "attempts", "succeeded", "durationHistogram" FROM minutes_before
  ) AS changed GROUP BY 1\003B
  RETURN NULL\003B
END';
CREATE OR REPLACE FUNCTION "hookd_total_deleted_minutes"() RETURNS trigger LANGUAGE plpgsql AS U&'
BEGIN
  INSERT INTO "DeliveryTotalDelta" ("minute", "attempts", "succeeded", "durationHistogram")
  SELECT "minute", -sum("attempts"), -sum("succeeded"), ARRAY[coalesce(sum(-"durationHistogram"[1]), 0)::int, coalesce(sum(-"durationHistogram"[2]), 0)::int, coalesce(sum(-"durationHistogram"[3]), 0)::int, coalesce(sum(-"durationHistogram"[4]), 0)::int, coalesce(sum(-"durationHistogram"[5]), 0)::int, coalesce(sum(-"durationHistogram"[6]), 0)::int, coalesce(sum(-"durationHistogram"[7]), 0)::int, coalesce(sum(-"durationHistogram"[8]), 0)::int, coalesce(sum(-"durationHistogram"[9]), 0)::int, coalesce(sum(-"durationHistogram"[10]), 0)::int, coalesce(sum(-"durationHistogram"[11]), 0)::int, coalesce(sum(-"durationHistogram"[12]), 0)::int, coalesce(sum(-"durationHistogram"[13]), 0)::int, coalesce(sum(-"durationHistogram"[14]), 0)::int, coalesce(sum(-"durationHistogram"[15]), 0)::int, coalesce(sum(-"durationHistogram"[16]), 0)::int, coalesce(sum(-"durationHistogram"[17]), 0)::int, coalesce(sum(-"durationHistogram"[18]), 0)::int, coalesce(sum(-"durationHistogram"[19]), 0)::int, coalesce(sum(-"durationHistogram"[20]), 0)::int, coalesce(sum(-"durationHistogram"[21]), 0)::int, coalesce(sum(-"durationHistogram"[22]), 0)::int, coalesce(sum(-"durationHistogram"[23]), 0)::int, coalesce(sum(-"durationHistogram"[24]), 0)::int, coalesce(sum(-"durationHistogram"[25]), 0)::int]
  FROM deleted_minutes GROUP BY 1\003B
  RETURN NULL\003B
END';
