-- publishEvent looks up an earlier publish by idempotency key across all subscriptions: without
-- this index that was a scan of every event. The key is never updated, so updates stay HOT.
CREATE INDEX "Event_idempotencyKey_idx" ON "Event"("idempotencyKey");
