-- What ingest needs of a subscription (its status and event-type filter) is cached in each
-- server process, and every INSERT of events checks the cached copy against this version: a
-- copy older than the row inserts nothing, and the server reads the row again. So a change is
-- seen by the next ingest on every server, and ingest needs no Redis round trip.
-- A trigger keeps it, whoever writes the row (API, worker auto-disable, SQL by hand).
-- (Function bodies use U&-strings with 003B for the semicolon: the offline migration engine
-- splits scripts at every semicolon, even inside a function body.)
ALTER TABLE "WebhookSubscription" ADD COLUMN "routeVersion" INTEGER NOT NULL DEFAULT 0;

CREATE FUNCTION "hookd_bump_route_version"() RETURNS trigger LANGUAGE plpgsql AS U&'
BEGIN
  NEW."routeVersion" := OLD."routeVersion" + 1\003B
  RETURN NEW\003B
END';

CREATE TRIGGER "WebhookSubscription_route_version" BEFORE UPDATE ON "WebhookSubscription"
    FOR EACH ROW WHEN (OLD."status" IS DISTINCT FROM NEW."status" OR OLD."eventTypes" IS DISTINCT FROM NEW."eventTypes")
    EXECUTE FUNCTION "hookd_bump_route_version"();
