-- Event ids (UUIDv7) take their time from PostgreSQL: the start of the transaction that
-- inserts them, now(), and their random bits from "bits". An event not committed yet then has
-- an id at or after the start of its transaction, which pg_stat_activity shows: the sweeper
-- keeps its mark below that (worker/maintenance.ts), and needs no margin for slow commits or
-- for the clocks of the servers. ("at" is for rows written into the past, as the benchmark does.)
CREATE FUNCTION hookd_event_id(bits uuid, at timestamptz DEFAULT now()) RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT (lpad(to_hex(floor(extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7' || substr(replace(bits::text, '-', ''), 14))::uuid
$$;

ALTER TABLE "Event" ALTER COLUMN "id" SET DEFAULT hookd_event_id(gen_random_uuid());
