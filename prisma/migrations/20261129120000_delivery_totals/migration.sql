-- Delivery totals of all subscriptions together, per minute and per hour: the overview and the
-- all-subscriptions timeline read a few rows, whatever the number of subscriptions. (Adding up
-- every subscription rollups took 36 ms with 1,000 active subscriptions and 96 ms with 3,000.)
-- Kept as event counts are: every statement that changes DeliveryMinute appends its net change
-- per minute to DeliveryTotalDelta (insert only, so busy statements never wait on one another),
-- the worker folds the deltas into DeliveryTotalMinute and DeliveryTotalHour every few seconds,
-- and readers add the deltas not folded yet, so the totals are exact at every commit, changes
-- made by hand in SQL included. Deleting a subscription deletes its minutes, and with them its
-- share of the totals, as before.
-- (Function bodies use U&-strings with 003B for the semicolon: the offline migration engine
-- splits scripts at every semicolon, even inside a function body.)
CREATE TABLE "DeliveryTotalMinute" (
    "minute" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL,
    "succeeded" INTEGER NOT NULL,
    "durationHistogram" INTEGER[],

    CONSTRAINT "DeliveryTotalMinute_pkey" PRIMARY KEY ("minute")
);

CREATE TABLE "DeliveryTotalHour" (
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL,
    "succeeded" INTEGER NOT NULL,
    "durationHistogram" INTEGER[],

    CONSTRAINT "DeliveryTotalHour_pkey" PRIMARY KEY ("hour")
);

-- No key and no index: each statement on DeliveryMinute pays for a small heap insert and
-- nothing more. It stays a few seconds of rows long, so readers scan it.
CREATE TABLE "DeliveryTotalDelta" (
    "minute" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL,
    "succeeded" INTEGER NOT NULL,
    "durationHistogram" INTEGER[] NOT NULL
);

-- Rows go to the log as they are (the fold adds them up): no aggregate to set up in a trigger
-- that runs with every statement that records attempts.
CREATE FUNCTION "hookd_total_inserted_minutes"() RETURNS trigger LANGUAGE plpgsql AS U&'
BEGIN
  INSERT INTO "DeliveryTotalDelta" ("minute", "attempts", "succeeded", "durationHistogram")
  SELECT "minute", "attempts", "succeeded", coalesce("durationHistogram", ''{}'') FROM inserted_minutes\003B
  RETURN NULL\003B
END';

CREATE FUNCTION "hookd_total_updated_minutes"() RETURNS trigger LANGUAGE plpgsql AS U&'
BEGIN
  INSERT INTO "DeliveryTotalDelta" ("minute", "attempts", "succeeded", "durationHistogram")
  SELECT "minute", "attempts", "succeeded", coalesce("durationHistogram", ''{}'') FROM minutes_after
  UNION ALL
  SELECT "minute", -"attempts", -"succeeded", ARRAY(SELECT -coalesce(x, 0) FROM unnest("durationHistogram") WITH ORDINALITY AS t(x, i) ORDER BY i) FROM minutes_before\003B
  RETURN NULL\003B
END';

CREATE FUNCTION "hookd_total_deleted_minutes"() RETURNS trigger LANGUAGE plpgsql AS U&'
BEGIN
  INSERT INTO "DeliveryTotalDelta" ("minute", "attempts", "succeeded", "durationHistogram")
  SELECT "minute", -"attempts", -"succeeded", ARRAY(SELECT -coalesce(x, 0) FROM unnest("durationHistogram") WITH ORDINALITY AS t(x, i) ORDER BY i) FROM deleted_minutes\003B
  RETURN NULL\003B
END';

CREATE TRIGGER "DeliveryMinute_total_inserted" AFTER INSERT ON "DeliveryMinute"
    REFERENCING NEW TABLE AS inserted_minutes FOR EACH STATEMENT EXECUTE FUNCTION "hookd_total_inserted_minutes"();

CREATE TRIGGER "DeliveryMinute_total_updated" AFTER UPDATE ON "DeliveryMinute"
    REFERENCING OLD TABLE AS minutes_before NEW TABLE AS minutes_after FOR EACH STATEMENT EXECUTE FUNCTION "hookd_total_updated_minutes"();

CREATE TRIGGER "DeliveryMinute_total_deleted" AFTER DELETE ON "DeliveryMinute"
    REFERENCING OLD TABLE AS deleted_minutes FOR EACH STATEMENT EXECUTE FUNCTION "hookd_total_deleted_minutes"();

-- The minutes already there (creating the triggers held off writers until this commits).
INSERT INTO "DeliveryTotalMinute" ("minute", "attempts", "succeeded", "durationHistogram")
SELECT "minute", sum("attempts"), sum("succeeded"), ARRAY[coalesce(sum("durationHistogram"[1]), 0)::int, coalesce(sum("durationHistogram"[2]), 0)::int, coalesce(sum("durationHistogram"[3]), 0)::int, coalesce(sum("durationHistogram"[4]), 0)::int, coalesce(sum("durationHistogram"[5]), 0)::int, coalesce(sum("durationHistogram"[6]), 0)::int, coalesce(sum("durationHistogram"[7]), 0)::int, coalesce(sum("durationHistogram"[8]), 0)::int, coalesce(sum("durationHistogram"[9]), 0)::int, coalesce(sum("durationHistogram"[10]), 0)::int, coalesce(sum("durationHistogram"[11]), 0)::int, coalesce(sum("durationHistogram"[12]), 0)::int, coalesce(sum("durationHistogram"[13]), 0)::int, coalesce(sum("durationHistogram"[14]), 0)::int, coalesce(sum("durationHistogram"[15]), 0)::int, coalesce(sum("durationHistogram"[16]), 0)::int, coalesce(sum("durationHistogram"[17]), 0)::int, coalesce(sum("durationHistogram"[18]), 0)::int, coalesce(sum("durationHistogram"[19]), 0)::int, coalesce(sum("durationHistogram"[20]), 0)::int, coalesce(sum("durationHistogram"[21]), 0)::int, coalesce(sum("durationHistogram"[22]), 0)::int, coalesce(sum("durationHistogram"[23]), 0)::int, coalesce(sum("durationHistogram"[24]), 0)::int, coalesce(sum("durationHistogram"[25]), 0)::int]
FROM "DeliveryMinute" GROUP BY 1;

INSERT INTO "DeliveryTotalHour" ("hour", "attempts", "succeeded", "durationHistogram")
SELECT date_trunc('hour', "minute"), sum("attempts"), sum("succeeded"), ARRAY[coalesce(sum("durationHistogram"[1]), 0)::int, coalesce(sum("durationHistogram"[2]), 0)::int, coalesce(sum("durationHistogram"[3]), 0)::int, coalesce(sum("durationHistogram"[4]), 0)::int, coalesce(sum("durationHistogram"[5]), 0)::int, coalesce(sum("durationHistogram"[6]), 0)::int, coalesce(sum("durationHistogram"[7]), 0)::int, coalesce(sum("durationHistogram"[8]), 0)::int, coalesce(sum("durationHistogram"[9]), 0)::int, coalesce(sum("durationHistogram"[10]), 0)::int, coalesce(sum("durationHistogram"[11]), 0)::int, coalesce(sum("durationHistogram"[12]), 0)::int, coalesce(sum("durationHistogram"[13]), 0)::int, coalesce(sum("durationHistogram"[14]), 0)::int, coalesce(sum("durationHistogram"[15]), 0)::int, coalesce(sum("durationHistogram"[16]), 0)::int, coalesce(sum("durationHistogram"[17]), 0)::int, coalesce(sum("durationHistogram"[18]), 0)::int, coalesce(sum("durationHistogram"[19]), 0)::int, coalesce(sum("durationHistogram"[20]), 0)::int, coalesce(sum("durationHistogram"[21]), 0)::int, coalesce(sum("durationHistogram"[22]), 0)::int, coalesce(sum("durationHistogram"[23]), 0)::int, coalesce(sum("durationHistogram"[24]), 0)::int, coalesce(sum("durationHistogram"[25]), 0)::int]
FROM "DeliveryMinute" GROUP BY 1;
