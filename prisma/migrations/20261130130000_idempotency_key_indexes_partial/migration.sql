-- Most events carry no idempotency key, and a btree holds an entry for every NULL: each ingest
-- wrote two index entries per event that no lookup ever reads (lookups are by a key, which is
-- never NULL), and at a million keyless events the two indexes held about 40 MB of them.
-- Only keys are indexed now. Uniqueness is unchanged (NULLs were never equal to each other),
-- ingest conflicts still end in ON CONFLICT DO NOTHING, and a lookup by key implies the key
-- is not NULL, so the planner uses these indexes as before. Measured: an INSERT of 20 keyless
-- events 3 to 5 percent faster (600 statements, three alternating rounds on an idle database).
-- Prisma has no partial indexes: prisma/schema.prisma still names them as plain ones.
-- Built before the old ones are dropped, in the same transaction, so that neither lookups nor
-- the uniqueness of keys are ever without an index.
CREATE INDEX "Event_idempotencyKey_idx_partial" ON "Event" ("idempotencyKey") WHERE "idempotencyKey" IS NOT NULL;
CREATE UNIQUE INDEX "Event_subscriptionId_idempotencyKey_key_partial" ON "Event" ("subscriptionId", "idempotencyKey") WHERE "idempotencyKey" IS NOT NULL;
DROP INDEX "Event_idempotencyKey_idx";
DROP INDEX "Event_subscriptionId_idempotencyKey_key";
ALTER INDEX "Event_idempotencyKey_idx_partial" RENAME TO "Event_idempotencyKey_idx";
ALTER INDEX "Event_subscriptionId_idempotencyKey_key_partial" RENAME TO "Event_subscriptionId_idempotencyKey_key";
