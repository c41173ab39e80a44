-- Per-hour rollups, folded by the worker from the per-minute ones: a 24 h window reads 24 hour
-- rows per subscription and at most two partial hours of minutes, not up to 1,440 minutes.
-- DeliveryHourFold holds how far the hours are folded: readers take hours before it and
-- minutes from it on, so an hour not folded yet (worker away) is still counted, from its minutes.
CREATE TABLE "DeliveryHour" (
    "subscriptionId" UUID NOT NULL,
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL,
    "succeeded" INTEGER NOT NULL,
    "durationHistogram" INTEGER[],

    CONSTRAINT "DeliveryHour_pkey" PRIMARY KEY ("subscriptionId","hour")
);

CREATE INDEX "DeliveryHour_hour_idx" ON "DeliveryHour"("hour");

ALTER TABLE "DeliveryHour" ADD CONSTRAINT "DeliveryHour_subscriptionId_fkey" FOREIGN KEY ("subscriptionId") REFERENCES "WebhookSubscription"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "DeliveryHourFold" (
    "id" BOOLEAN NOT NULL DEFAULT true,
    "foldedUntil" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "DeliveryHourFold_pkey" PRIMARY KEY ("id")
);
