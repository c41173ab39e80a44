-- The worker folds these two logs every 2 seconds and then vacuums them. By default VACUUM
-- then cut the emptied pages off the end of the table, and to do so took an ACCESS EXCLUSIVE
-- lock on it: every statement whose trigger appends to the log (ingest, claims, the records
-- of attempts) waited for it, all at once, every 2 seconds, and the next rows had to extend
-- the table again. Kept, the emptied pages take the next rows.
-- Measured (the live stage of the benchmark, three alternating pairs): most attempt updates
-- slower than 15 ms had come in one tenth of each 2 second cycle, and no longer do.
ALTER TABLE "EventCountDelta" SET (vacuum_truncate = false);
ALTER TABLE "DeliveryTotalDelta" SET (vacuum_truncate = false);
