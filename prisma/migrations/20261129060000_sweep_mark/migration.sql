-- Where the sweeper starts reading "Event" (one row). Event ids are UUIDv7, so ids grow with
-- time and every event still open (PENDING, RETRYING or DELIVERING, on an ACTIVE subscription)
-- has an id at or above "openFrom": the sweeper reads from there, on the primary key of "Event",
-- and moves it up. What reopens an older event (redeliverEvent, a subscription made ACTIVE
-- again) lowers it in the same transaction and bumps "version", and the sweeper moves it only if
-- "version" is still the one it read before its scan (worker/maintenance.ts).
CREATE TABLE "SweepMark" (
    "id" BOOLEAN NOT NULL DEFAULT true,
    "openFrom" UUID NOT NULL,
    "version" BIGINT NOT NULL,

    CONSTRAINT "SweepMark_pkey" PRIMARY KEY ("id")
);

-- From the start of the id space: the first sweep reads the whole table once.
INSERT INTO "SweepMark" ("id", "openFrom", "version") VALUES (true, '00000000-0000-0000-0000-000000000000', 0);
