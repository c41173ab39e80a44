// What a delivery reads and writes in PostgreSQL, group-committed: the claims of the jobs a
// worker is running go to PostgreSQL as one UPDATE, and their results as one statement that
// inserts the attempts, updates the events and the subscriptions' failing streaks. Every job
// still waits for its own rows to be committed before it goes on.
import { uuidv7 } from './ids.ts';
import { Batcher } from './batcher.ts';
import { EVENT_COLUMNS, columnList, isDatabaseUnavailable, type DeliveryAttempt, type Event, type EventStatus } from './db.ts';
import { addedHistogramsSql, durationBucket, emptyHistogram } from './duration-histogram.ts';
import { failingStreakChanges } from './failing-streak.ts';
import type { Delivery } from './queue.ts';
import type { Services } from './services.ts';
import { query, type Statement } from './sql.ts';

export interface ClaimedEvent extends Event {
  targetUrl: string;
  secret: string;
  previousSecret: string | null;
}

/** One attempt's result, as the worker records it. */
export interface AttemptRecord {
  event: Event;
  attemptNumber: number;
  attemptedAt: Date;
  finishedAt: Date;
  durationMs: number;
  success: boolean;
  gone: boolean;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
  nextAttemptAt: Date | null;
  requestHeaders: Record<string, string>;
}

/** The rows as committed, to publish. */
export interface RecordedAttempt {
  attempt: DeliveryAttempt;
  event: Event;
}

/** Most claims or records in one statement. */
const MAX_BATCH = 250;
/** Statements of each kind running at once. */
const MAX_IN_FLIGHT = 1;
const DATABASE_RETRY_MS = { first: 500, max: 5_000 };

/**
 * Claims attempts: an event moves to DELIVERING only if it is still waiting for exactly this
 * attempt and its subscription is ACTIVE. A stale or duplicate delivery claims nothing (null).
 */
export async function claimEvents(services: Services, deliveries: Delivery[]): Promise<(ClaimedEvent | null)[]> {
  const rows = await query<ClaimedEvent>(services.claimSql, CLAIM_EVENTS, [
    deliveries.map((delivery) => delivery.eventId),
    deliveries.map((delivery) => delivery.attempt - 1),
  ]);
  const byEvent = new Map(rows.map((row) => [row.id, row]));
  return deliveries.map((delivery) => {
    const row = byEvent.get(delivery.eventId);
    return row && row.attemptCount === delivery.attempt - 1 ? row : null;
  });
}

export const CLAIM_EVENTS: Statement = {
  name: 'hookd_claim_events',
  text: `
    UPDATE "Event" e SET status = 'DELIVERING', "updatedAt" = now()
    FROM unnest($1::uuid[], $2::int[]) AS j(id, "attemptCount"), "WebhookSubscription" s
    WHERE e.id = j.id AND e."attemptCount" = j."attemptCount" AND s.id = e."subscriptionId" AND s.status = 'ACTIVE'
      AND e.status IN ('PENDING', 'RETRYING')
    RETURNING ${columnList(EVENT_COLUMNS, 'e')}, s."targetUrl" AS "targetUrl", s.secret AS secret,
      CASE WHEN s."previousSecretExpiresAt" > now() THEN s."previousSecret" END AS "previousSecret"`,
};

/**
 * A retry is due no earlier than the start of the transaction that records it (a record held
 * back while PostgreSQL was away may commit after the time the worker chose): the sweeper's
 * retry mark never passes the start of a write still open, so it never passes this retry.
 */
const DUE_NOT_BEFORE_COMMIT = `CASE WHEN v."nextAttemptAt" IS NOT NULL THEN greatest(v."nextAttemptAt", now()) END`;

/** Arrays go as text and are cast in SQL, so every column's type is PostgreSQL's to decide. */
export const RECORD_ATTEMPTS: Statement = {
  name: 'hookd_record_attempts',
  text: `
    WITH v AS (
      SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::text[]::timestamptz[], $6::int[], $7::boolean[],
        $8::int[], $9::text[], $10::text[], $11::text[]::timestamptz[], $12::text[]::jsonb[], $13::text[],
        $14::text[]::timestamptz[], $15::text[]::timestamptz[])
      AS v(id, "eventId", "subscriptionId", "attemptNumber", "attemptedAt", "durationMs", success, "responseStatus",
           "responseBody", error, "nextAttemptAt", "requestHeaders", "eventStatus", "deliveredAt", "finishedAt")
    ), attempts AS (
      INSERT INTO "DeliveryAttempt" (id, "eventId", "subscriptionId", "attemptNumber", "attemptedAt", "durationMs", success,
        "responseStatus", "responseBody", error, "nextAttemptAt", "requestHeaders")
      SELECT id, "eventId", "subscriptionId", "attemptNumber", "attemptedAt", "durationMs", success,
        "responseStatus", "responseBody", error, ${DUE_NOT_BEFORE_COMMIT}, "requestHeaders" FROM v
    ), minutes AS (
      INSERT INTO "DeliveryMinute" AS m ("subscriptionId", minute, attempts, succeeded, "durationHistogram")
      SELECT r."subscriptionId", r.minute, r.attempts, r.succeeded, r.histogram::int[]
      FROM unnest($20::uuid[], $21::text[]::timestamptz[], $22::int[], $23::int[], $24::text[])
        AS r("subscriptionId", minute, attempts, succeeded, histogram)
      ON CONFLICT ("subscriptionId", minute) DO UPDATE SET
        attempts = m.attempts + excluded.attempts,
        succeeded = m.succeeded + excluded.succeeded,
        "durationHistogram" = ${addedHistogramsSql('m')}
    ), events AS (
      UPDATE "Event" e SET "attemptCount" = v."attemptNumber", status = v."eventStatus"::"EventStatus", "deliveredAt" = v."deliveredAt",
        "nextAttemptAt" = ${DUE_NOT_BEFORE_COMMIT}, "updatedAt" = v."finishedAt"
      FROM v WHERE e.id = v."eventId"
    )
    UPDATE "WebhookSubscription" s SET
      "failingSince" = CASE f.kind WHEN 'clear' THEN NULL WHEN 'restart' THEN f.since ELSE coalesce(s."failingSince", f.since) END,
      status = CASE WHEN f.gone THEN 'DISABLED'::"WebhookSubscriptionStatus" ELSE s.status END,
      "updatedAt" = CASE WHEN f.gone THEN now() ELSE s."updatedAt" END
    FROM unnest($16::uuid[], $17::text[], $18::text[]::timestamptz[], $19::boolean[]) AS f(id, kind, since, gone)
    -- Only rows that change: a busy subscription's row is not rewritten by every batch.
    WHERE s.id = f.id AND (f.gone OR f.kind = 'restart' OR (f.kind = 'clear' AND s."failingSince" IS NOT NULL)
      OR (f.kind = 'continue' AND s."failingSince" IS NULL))`,
};

interface MinuteRollup {
  subscriptionId: string;
  minute: Date;
  attempts: number;
  succeeded: number;
  histogram: number[];
}

/**
 * What a batch adds to the per-minute rollups, one row per subscription and minute, sorted so
 * that concurrent batches lock rows in the same order.
 */
export function minuteRollups(attempts: Pick<DeliveryAttempt, 'subscriptionId' | 'attemptedAt' | 'success' | 'durationMs'>[]): MinuteRollup[] {
  const rollups = new Map<string, MinuteRollup>();
  for (const attempt of attempts) {
    const minute = new Date(Math.floor(attempt.attemptedAt.getTime() / 60_000) * 60_000);
    const key = `${attempt.subscriptionId} ${minute.toISOString()}`;
    let rollup = rollups.get(key);
    if (!rollup) {
      rollup = { subscriptionId: attempt.subscriptionId, minute, attempts: 0, succeeded: 0, histogram: emptyHistogram() };
      rollups.set(key, rollup);
    }
    rollup.attempts++;
    if (attempt.success) rollup.succeeded++;
    rollup.histogram[durationBucket(attempt.durationMs)]!++;
  }
  return [...rollups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, rollup]) => rollup);
}

function eventStatusAfter(record: AttemptRecord): EventStatus {
  if (record.success) return 'DELIVERED';
  return record.nextAttemptAt ? 'RETRYING' : 'FAILED';
}

/**
 * Records attempts in one statement (so one commit): inserts the attempts, moves their events
 * on, and updates the failing streak (and, on 410 Gone, the status) of their subscriptions.
 */
export async function recordAttempts(services: Services, records: AttemptRecord[]): Promise<RecordedAttempt[]> {
  const recorded = records.map((record): RecordedAttempt => {
    const status = eventStatusAfter(record);
    return {
      attempt: {
        id: uuidv7(),
        eventId: record.event.id,
        subscriptionId: record.event.subscriptionId,
        attemptNumber: record.attemptNumber,
        attemptedAt: record.attemptedAt,
        durationMs: record.durationMs,
        success: record.success,
        responseStatus: record.responseStatus,
        responseBody: record.responseBody,
        error: record.error,
        nextAttemptAt: record.nextAttemptAt,
        requestHeaders: record.requestHeaders,
      },
      event: {
        ...record.event,
        attemptCount: record.attemptNumber,
        status,
        deliveredAt: record.success ? record.finishedAt : record.event.deliveredAt,
        nextAttemptAt: record.nextAttemptAt,
        updatedAt: record.finishedAt,
      },
    };
  });
  // Sorted, like the rollups: concurrent batches lock subscription rows in one order.
  const streaks = failingStreakChanges(
    records.map((record) => ({ subscriptionId: record.event.subscriptionId, success: record.success, gone: record.gone, finishedAt: record.finishedAt })),
  ).sort((a, b) => (a.subscriptionId < b.subscriptionId ? -1 : a.subscriptionId > b.subscriptionId ? 1 : 0));
  const minutes = minuteRollups(recorded.map((row) => row.attempt));
  const attempts = recorded.map((row) => row.attempt);
  const events = recorded.map((row) => row.event);
  const iso = (date: Date | null) => date?.toISOString() ?? null;
  await query(services.sql, RECORD_ATTEMPTS, [
    attempts.map((a) => a.id),
    attempts.map((a) => a.eventId),
    attempts.map((a) => a.subscriptionId),
    attempts.map((a) => a.attemptNumber),
    attempts.map((a) => iso(a.attemptedAt)),
    attempts.map((a) => a.durationMs),
    attempts.map((a) => a.success),
    attempts.map((a) => a.responseStatus),
    attempts.map((a) => a.responseBody),
    attempts.map((a) => a.error),
    attempts.map((a) => iso(a.nextAttemptAt)),
    attempts.map((a) => JSON.stringify(a.requestHeaders)),
    events.map((e) => e.status),
    events.map((e) => iso(e.deliveredAt)),
    events.map((e) => iso(e.updatedAt)),
    streaks.map((c) => c.subscriptionId),
    streaks.map((c) => c.kind),
    streaks.map((c) => (c.kind === 'clear' ? null : c.since.toISOString())),
    streaks.map((c) => c.gone),
    minutes.map((m) => m.subscriptionId),
    minutes.map((m) => m.minute.toISOString()),
    minutes.map((m) => m.attempts),
    minutes.map((m) => m.succeeded),
    minutes.map((m) => `{${m.histogram.join(',')}}`),
  ]);
  return recorded;
}

/**
 * The worker's claims and records, batched across the jobs it runs at once. While PostgreSQL
 * is unreachable a batch waits and tries again (backing off), so a delivery's result is kept
 * until it can be written.
 */
export class DeliveryStore {
  private readonly claims: Batcher<Delivery, ClaimedEvent | null>;
  private readonly records: Batcher<AttemptRecord, RecordedAttempt>;

  constructor(
    private readonly services: Services,
    /** True once the worker is shutting down: stop waiting for PostgreSQL. */
    private readonly stopping: () => boolean = () => false,
  ) {
    // A failed batch is retried item by item (so one bad row costs only its own job), unless
    // PostgreSQL is away: then every item waits, in whileDatabaseDown.
    const retryAlone = (error: unknown) => !isDatabaseUnavailable(error);
    this.claims = new Batcher({
      run: (deliveries) => this.whileDatabaseDown('claim', () => claimEvents(services, deliveries)),
      maxBatch: MAX_BATCH,
      maxInFlight: MAX_IN_FLIGHT,
      retryAlone,
    });
    this.records = new Batcher({
      run: (records) => this.whileDatabaseDown('record', () => recordAttempts(services, records)),
      maxBatch: MAX_BATCH,
      maxInFlight: MAX_IN_FLIGHT,
      retryAlone,
    });
  }

  claim(delivery: Delivery): Promise<ClaimedEvent | null> {
    return this.claims.add(delivery);
  }

  record(record: AttemptRecord): Promise<RecordedAttempt> {
    return this.records.add(record);
  }

  private async whileDatabaseDown<T>(what: string, step: () => Promise<T>): Promise<T> {
    let wait = DATABASE_RETRY_MS.first;
    for (let tries = 1; ; tries++) {
      try {
        return await step();
      } catch (error) {
        if (!isDatabaseUnavailable(error) || this.stopping()) throw error;
        if (tries === 1) this.services.log.warn('PostgreSQL is unavailable; holding on and retrying', { step: what });
        await new Promise((resolve) => setTimeout(resolve, wait));
        wait = Math.min(wait * 2, DATABASE_RETRY_MS.max);
      }
    }
  }
}
