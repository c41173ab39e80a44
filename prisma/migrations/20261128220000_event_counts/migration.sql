-- Per-subscription event counts by status, kept by triggers on Event: the dashboard reads a few
-- rows instead of counting a subscription's events (a million of them took 140 ms).
-- Every statement that inserts, updates or deletes events appends its net change per
-- subscription and status to EventCountDelta (insert only, so busy statements never wait on
-- one another). The worker folds the deltas into EventCount every few seconds, and readers add
-- the deltas not yet folded, so counts are exact at every commit.
-- (Function bodies use U&-strings with 003B for the semicolon: the offline migration engine
-- splits scripts at every semicolon, even inside a function body.)
CREATE TABLE "EventCount" (
    "subscriptionId" UUID NOT NULL,
    "status" "EventStatus" NOT NULL,
    "count" BIGINT NOT NULL,

    CONSTRAINT "EventCount_pkey" PRIMARY KEY ("subscriptionId","status")
);

ALTER TABLE "EventCount" ADD CONSTRAINT "EventCount_subscriptionId_fkey" FOREIGN KEY ("subscriptionId") REFERENCES "WebhookSubscription"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- No key, no index, no foreign key: each statement on Event pays for one small heap insert and
-- nothing more. It stays a few seconds of rows long, so readers scan it. Deleting a
-- subscription deletes its events, whose deltas name it: the fold drops deltas of
-- subscriptions that are gone.
CREATE TABLE "EventCountDelta" (
    "subscriptionId" UUID NOT NULL,
    "status" "EventStatus" NOT NULL,
    "delta" INTEGER NOT NULL
);

CREATE FUNCTION "hookd_count_inserted_events"() RETURNS trigger LANGUAGE plpgsql AS U&'
BEGIN
  INSERT INTO "EventCountDelta" ("subscriptionId", "status", "delta")
  SELECT "subscriptionId", "status", count(*) FROM inserted_events GROUP BY 1, 2\003B
  RETURN NULL\003B
END';

CREATE FUNCTION "hookd_count_updated_events"() RETURNS trigger LANGUAGE plpgsql AS U&'
BEGIN
  INSERT INTO "EventCountDelta" ("subscriptionId", "status", "delta")
  SELECT "subscriptionId", "status", sum(change) FROM (
    SELECT "subscriptionId", "status", 1 AS change FROM events_after
    UNION ALL
    SELECT "subscriptionId", "status", -1 AS change FROM events_before
  ) AS changes
  GROUP BY 1, 2 HAVING sum(change) <> 0\003B
  RETURN NULL\003B
END';

CREATE FUNCTION "hookd_count_deleted_events"() RETURNS trigger LANGUAGE plpgsql AS U&'
BEGIN
  INSERT INTO "EventCountDelta" ("subscriptionId", "status", "delta")
  SELECT "subscriptionId", "status", -count(*) FROM deleted_events GROUP BY 1, 2\003B
  RETURN NULL\003B
END';

CREATE TRIGGER "Event_count_inserted" AFTER INSERT ON "Event"
    REFERENCING NEW TABLE AS inserted_events FOR EACH STATEMENT EXECUTE FUNCTION "hookd_count_inserted_events"();

CREATE TRIGGER "Event_count_updated" AFTER UPDATE ON "Event"
    REFERENCING OLD TABLE AS events_before NEW TABLE AS events_after FOR EACH STATEMENT EXECUTE FUNCTION "hookd_count_updated_events"();

CREATE TRIGGER "Event_count_deleted" AFTER DELETE ON "Event"
    REFERENCING OLD TABLE AS deleted_events FOR EACH STATEMENT EXECUTE FUNCTION "hookd_count_deleted_events"();

-- The events already there (migrations run before the server and worker start).
INSERT INTO "EventCount" ("subscriptionId", "status", "count")
SELECT "subscriptionId", "status", count(*) FROM "Event" GROUP BY 1, 2;
