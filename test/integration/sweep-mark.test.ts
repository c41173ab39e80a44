// The sweeper reads from its marks, not whole tables: "Event" by id from the event mark, and
// scheduled retries by due time from the retry mark. Each mark must move up past finished work,
// stay at or below everything open, and go down, in the same transaction, when older work is
// opened again (a redelivery, a subscription made ACTIVE again). A database and QUEUE_PREFIX of
// its own, and no worker: the tests run the sweeper's steps themselves.
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { uuidv7, uuidv7Time } from '../../core/ids.ts';
import { recordAttempts } from '../../core/delivery-store.ts';
import { redeliverEvent } from '../../core/ingest.ts';
import { createServices, type Services } from '../../core/services.ts';
import { updateWebhookSubscription } from '../../core/subscriptions.ts';
import {
  advanceSweepMark,
  deleteExpiredAttempts,
  retentionStatements,
  scanForSweep,
  sweep,
  SWEEP_LOOKBACK_MS,
  SWEEP_MARGIN_MS,
  sweepStatements,
} from '../../worker/maintenance.ts';
import { stack } from '../helpers/api.ts';
import { createTestDatabase, deleteRedisKeys, dropTestDatabase } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait.ts';

const name = `hookd_sweep_mark_${process.pid}`;
const queuePrefix = `hookd-sweep-mark-${process.pid}`;
const HOUR = 3_600_000;
let services: Services;
let databaseUrl: string;

beforeAll(async () => {
  databaseUrl = await createTestDatabase(name);
  services = createServices(loadConfig({ ...stack().env, DATABASE_URL: databaseUrl, QUEUE_PREFIX: queuePrefix }), 'test');
});

afterAll(async () => {
  await services?.close();
  await dropTestDatabase(name);
  await deleteRedisKeys(queuePrefix);
});

beforeEach(async () => {
  await services.db.$executeRawUnsafe(`TRUNCATE "Event", "WebhookSubscription" CASCADE`);
  await services.db.$executeRawUnsafe(`UPDATE "SweepMark" SET "openFrom" = '00000000-0000-0000-0000-000000000000', "retryFrom" = 'epoch'`);
});

async function subscription(): Promise<string> {
  // Nothing is delivered here: no worker runs.
  const id = uuidv7();
  await services.db.$executeRawUnsafe(
    `INSERT INTO "WebhookSubscription" (id, "targetUrl", secret, "updatedAt") VALUES ($1::uuid, 'https://receiver.example/hook', 'whsec_c3dlZXAtbWFyay1zd2VlcC1tYXJr', now())`,
    id,
  );
  return id;
}

/**
 * An event created `agoMs` ago (its id carries that time), in `status`, due since then. Past
 * PENDING, it has had one attempt, recorded as the worker does: one that failed and scheduled
 * the next for then (or `dueAt`) when the event is RETRYING or DELIVERING (that next one), else
 * the last.
 */
async function event(
  subscriptionId: string,
  status: string,
  agoMs: number,
  { attemptCount = status === 'PENDING' ? 0 : 1, dueAt }: { attemptCount?: number; dueAt?: number } = {},
): Promise<string> {
  const at = Date.now() - agoMs;
  const id = uuidv7(at);
  await services.db.$executeRawUnsafe(
    `INSERT INTO "Event" (id, "subscriptionId", payload, status, "attemptCount", "nextAttemptAt", "createdAt", "updatedAt")
     VALUES ($1::uuid, $2::uuid, '{}', $3::"EventStatus", $4, $5, $5, $5)`,
    id,
    subscriptionId,
    status,
    attemptCount,
    new Date(at),
  );
  if (attemptCount > 0) {
    const retried = status === 'RETRYING' || status === 'DELIVERING';
    await services.db.$executeRawUnsafe(
      `INSERT INTO "DeliveryAttempt" (id, "eventId", "subscriptionId", "attemptNumber", "attemptedAt", "durationMs", success, "nextAttemptAt")
       VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, 5, $6, $7)`,
      uuidv7(at),
      id,
      subscriptionId,
      attemptCount,
      new Date(at - 10_000),
      status === 'DELIVERED',
      retried ? new Date(dueAt ?? at) : null,
    );
    if (dueAt !== undefined) await services.db.$executeRawUnsafe(`UPDATE "Event" SET "nextAttemptAt" = $2 WHERE id = $1::uuid`, id, new Date(dueAt));
  }
  return id;
}

async function mark(): Promise<string> {
  const [row] = await services.db.$queryRawUnsafe<{ openFrom: string }[]>(`SELECT "openFrom"::text AS "openFrom" FROM "SweepMark"`);
  return row!.openFrom;
}

/** The retry mark, ms since the epoch. */
async function retryMark(): Promise<number> {
  const [row] = await services.db.$queryRawUnsafe<{ retryFrom: Date }[]>(`SELECT "retryFrom" FROM "SweepMark"`);
  return row!.retryFrom.getTime();
}

/** The due time of an event's current attempt (what the retry mark is in), ms since the epoch. */
async function dueTime(eventId: string): Promise<number> {
  const [row] = await services.db.$queryRawUnsafe<{ at: Date }[]>(
    `SELECT a."nextAttemptAt" AS at FROM "DeliveryAttempt" a JOIN "Event" e ON e.id = a."eventId" AND a."attemptNumber" = e."attemptCount" WHERE e.id = $1::uuid`,
    eventId,
  );
  return row!.at.getTime();
}

/** Begins a transaction on `client` and waits until it began more than SWEEP_MARGIN_MS ago. */
async function beginOlderThanMargin(client: pg.Client): Promise<void> {
  await client.query('BEGIN');
  await waitFor(async () => (await client.query(`SELECT now() < clock_timestamp() - $1 * interval '1 ms' AS old`, [SWEEP_MARGIN_MS + 1_000])).rows[0].old, {
    timeoutMs: 10_000,
    intervalMs: 200,
    what: 'the transaction older than the margin',
  });
}

/** A sweep as the worker runs it, a minute from now (so events just made due count as due). */
async function sweepOnce(): Promise<{ due: string[]; moved: boolean }> {
  const now = Date.now() + 60_000;
  const scan = await scanForSweep(services, now);
  const moved = await advanceSweepMark(services, scan);
  return { due: scan.due.map((found) => found.id), moved };
}

describe('the sweep marks', () => {
  it('move up to the first open event and the first open retry, and past finished ones to just before now', async () => {
    const subscriptionId = await subscription();
    await event(subscriptionId, 'DELIVERED', 3 * HOUR);
    const waiting = await event(subscriptionId, 'PENDING', 2 * HOUR);
    const retrying = await event(subscriptionId, 'RETRYING', 90 * 60_000);
    await event(subscriptionId, 'FAILED', HOUR);

    const first = await sweepOnce();
    expect(first.moved).toBe(true);
    expect(first.due.sort()).toEqual([waiting, retrying].sort());
    expect(await mark()).toBe(waiting);
    expect(await retryMark()).toBe(await dueTime(retrying));

    await services.db.$executeRawUnsafe(`UPDATE "Event" SET status = 'DELIVERED' WHERE id IN ($1::uuid, $2::uuid)`, waiting, retrying);
    await sweepOnce();
    // Past the finished events, up to SWEEP_MARGIN_MS before now (nothing else is open here).
    expect(await mark() > uuidv7(Date.now() - SWEEP_MARGIN_MS - 10_000)).toBe(true);
    expect(await mark() <= uuidv7(Date.now() - SWEEP_MARGIN_MS)).toBe(true);
    expect(await retryMark()).toBeGreaterThan(Date.now() - SWEEP_MARGIN_MS - 10_000);
    expect(await retryMark()).toBeLessThanOrEqual(Date.now() - SWEEP_MARGIN_MS);
  });

  it('passes events in their retry schedule: a receiver that keeps failing holds back neither mark', async () => {
    const subscriptionId = await subscription();
    // Ten events of the last 20 minutes, each failed and waiting 15 minutes for its next attempt.
    const dueAt = Date.now() + 15 * 60_000;
    const retrying: string[] = [];
    for (let i = 0; i < 10; i++) retrying.push(await event(subscriptionId, 'RETRYING', 20 * 60_000 - i * 60_000, { attemptCount: 3, dueAt }));

    expect((await sweepOnce()).due).toEqual([]);
    expect(await mark() > uuidv7(Date.now() - SWEEP_MARGIN_MS - 10_000)).toBe(true);
    expect(await retryMark()).toBeGreaterThan(Date.now() - SWEEP_MARGIN_MS - 10_000);
    expect(await retryMark()).toBeLessThan(dueAt);
    // Once due (a sweep 16 minutes on), the retries are found from the retry mark.
    const later = await scanForSweep(services, Date.now() + 16 * 60_000);
    expect(later.due.map((found) => found.id).sort()).toEqual([...retrying].sort());
  });

  it('bounds the scans: an event opened behind their back (straight SQL) is not read', async () => {
    const subscriptionId = await subscription();
    const old = await event(subscriptionId, 'DELIVERED', HOUR);
    const retried = await event(subscriptionId, 'FAILED', HOUR);
    await sweepOnce();
    // As a redelivery would, but without lowering the event mark; and a retry scheduled an hour ago.
    await services.db.$executeRawUnsafe(`UPDATE "Event" SET status = 'PENDING', "seriesOffset" = "attemptCount", "nextAttemptAt" = now() WHERE id = $1::uuid`, old);
    await services.db.$executeRawUnsafe(`UPDATE "Event" SET status = 'RETRYING' WHERE id = $1::uuid`, retried);
    await services.db.$executeRawUnsafe(`UPDATE "DeliveryAttempt" SET "nextAttemptAt" = now() - interval '1 hour' WHERE "eventId" = $1::uuid`, retried);
    expect((await sweepOnce()).due).toEqual([]);
    // Fresh ones still are.
    const fresh = await event(subscriptionId, 'PENDING', 1_000);
    const freshRetry = await event(subscriptionId, 'RETRYING', 1_000);
    expect((await sweepOnce()).due.sort()).toEqual([fresh, freshRetry].sort());
  });

  it('goes down to a redelivered event, so a redelivery whose job Redis lost is swept', async () => {
    const subscriptionId = await subscription();
    const old = await event(subscriptionId, 'FAILED', HOUR);
    await sweepOnce();
    expect(await mark() > old).toBe(true);

    await redeliverEvent(services, old);
    expect(await mark()).toBe(old);
    const swept = await sweepOnce();
    expect(swept.due).toEqual([old]);
    // The redelivery is open until it ends: the mark stays at it.
    expect(await mark()).toBe(old);
  });

  it('do not move when an event was opened again between their scan and their move', async () => {
    const subscriptionId = await subscription();
    const old = await event(subscriptionId, 'DELIVERED', HOUR);
    await sweepOnce();

    // The scan reads the mark (at the lookback) and no open event; the redelivery lowers it.
    const now = Date.now() + 60_000;
    const scan = await scanForSweep(services, now);
    expect(scan.firstOpen).toBeNull();
    await redeliverEvent(services, old);
    expect(await advanceSweepMark(services, scan)).toBe(false);
    expect(await mark()).toBe(old);
    expect((await sweepOnce()).due).toEqual([old]);

    // Control: with nothing in between, the same steps move it.
    await services.db.$executeRawUnsafe(`UPDATE "Event" SET status = 'DELIVERED' WHERE id = $1::uuid`, old);
    const quiet = await scanForSweep(services, now);
    expect(await advanceSweepMark(services, quiet)).toBe(true);
    expect(await mark() > old).toBe(true);
  });

  it('pass events and retries a PAUSED subscription holds, and go down to them when it is made ACTIVE again', async () => {
    const held = await subscription();
    await updateWebhookSubscription(services, held, { status: 'PAUSED' });
    const waiting = await event(held, 'PENDING', 2 * HOUR);
    const retrying = await event(held, 'RETRYING', HOUR);

    // Held events are not due and do not hold the marks back.
    expect((await sweepOnce()).due).toEqual([]);
    expect(await mark() > retrying).toBe(true);
    expect(await retryMark()).toBeGreaterThan(await dueTime(retrying));

    await updateWebhookSubscription(services, held, { status: 'ACTIVE' });
    expect(await mark()).toBe(waiting);
    expect(await retryMark()).toBe(await dueTime(retrying));
    expect((await sweepOnce()).due.sort()).toEqual([waiting, retrying].sort());
  });

  it.each([
    ['its first attempt', 0],
    ['a retry', 2],
  ])('counts an event DELIVERING %s as open whatever its subscription, and the worker hands it back', async (_, attemptCount) => {
    const subscriptionId = await subscription();
    const stuck = await event(subscriptionId, 'DELIVERING', HOUR, { attemptCount });
    await updateWebhookSubscription(services, subscriptionId, { status: 'PAUSED' });
    await sweepOnce();
    if (attemptCount === 0) expect(await mark()).toBe(stuck);
    else expect(await retryMark()).toBe(await dueTime(stuck));

    // The sweep proper releases it (RETRYING); held by the PAUSED subscription, it is then passed.
    await sweep(services);
    const [row] = await services.db.$queryRawUnsafe<{ status: string }[]>(`SELECT status::text FROM "Event" WHERE id = $1::uuid`, stuck);
    expect(row!.status).toBe('RETRYING');
    await sweepOnce();
    expect(await mark() > stuck).toBe(true);
    expect(await retryMark()).toBeGreaterThan(Date.now() - SWEEP_MARGIN_MS - 10_000);
    // Made ACTIVE again, it is due.
    await updateWebhookSubscription(services, subscriptionId, { status: 'ACTIVE' });
    expect((await sweepOnce()).due).toEqual([stuck]);
  });

  it('read grown tables by index from the marks on, not all of them, and so does retention', async () => {
    const subscriptionId = await subscription();
    // 20,000 finished events over the last 3 days, ids of their creation time, each with a
    // failed attempt that scheduled a retry.
    await services.db.$executeRawUnsafe(
      `INSERT INTO "Event" (id, "subscriptionId", payload, status, "attemptCount", "createdAt", "updatedAt")
       SELECT hookd_event_id(gen_random_uuid(), t.at), $1::uuid, '{}', 'DELIVERED', 2, t.at, t.at
       FROM generate_series(1, 20000) g, LATERAL (SELECT now() - interval '72 hours' * (g::float8 / 20000) - interval '1 minute' AS at) t`,
      subscriptionId,
    );
    await services.db.$executeRawUnsafe(
      `INSERT INTO "DeliveryAttempt" (id, "eventId", "subscriptionId", "attemptNumber", "attemptedAt", "durationMs", success, "nextAttemptAt")
       SELECT gen_random_uuid(), id, "subscriptionId", 1, "createdAt", 5, false, "createdAt" + interval '10 seconds' FROM "Event"`,
    );
    await services.db.$executeRawUnsafe('ANALYZE "Event", "DeliveryAttempt"');
    await sweepOnce();
    const now = Date.now();
    const plan = async (statement: ReturnType<typeof sweepStatements.scanEvents>) =>
      (await services.db.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN (ANALYZE, COSTS OFF) ${statement.text}`, ...statement.values))
        .map((line) => line['QUERY PLAN'])
        .join('\n');
    const events = await plan(sweepStatements.scanEvents(await mark(), new Date(now), new Date(now), 1_000));
    expect(events).toMatch(/Index Scan using "Event_pkey" on "Event" e/);
    expect(events).not.toMatch(/Seq Scan on "Event"/);
    // It reads the events of the last SWEEP_MARGIN_MS or so (none of these), not 20,000.
    expect(Number(/Rows Removed by Filter: (\d+)/.exec(events)?.[1] ?? 0)).toBeLessThan(200);

    const retries = await plan(sweepStatements.scanRetries(new Date(await retryMark()), new Date(now), new Date(now), 1_000));
    expect(retries).toMatch(/Index Scan using "DeliveryAttempt_nextAttemptAt_idx" on "DeliveryAttempt" a/);
    expect(retries).not.toMatch(/Seq Scan on "DeliveryAttempt"/);
    // The attempts due since the retry mark: none of these 20,000.
    expect(retries).toMatch(/Index Scan using "DeliveryAttempt_nextAttemptAt_idx" on "DeliveryAttempt" a \(actual time=[\d.]+\.\.[\d.]+ rows=0 /);

    // Retention, as the worker runs it every minute with nothing old enough to delete: it reads
    // the old end of each table by index, and finds nothing, rather than reading 20,000 rows.
    const nothingBefore = new Date(now - 4 * 24 * HOUR);
    const eventRetention = await plan(retentionStatements.expiredEvents(nothingBefore, 5_000));
    expect(eventRetention).toMatch(/Index Scan( Backward)? using "Event_createdAt_id_idx" on "Event" \(actual time=[\d.]+\.\.[\d.]+ rows=0 /);
    expect(eventRetention).not.toMatch(/Seq Scan on "Event"/);
    const attemptRetention = await plan(retentionStatements.expiredAttempts(nothingBefore, 5_000));
    expect(attemptRetention).toMatch(/Index Scan using "DeliveryAttempt_attemptedAt_id_idx" on "DeliveryAttempt" a \(actual time=[\d.]+\.\.[\d.]+ rows=0 /);
    expect(attemptRetention).not.toMatch(/Seq Scan on "DeliveryAttempt"/);
  });

  it('keeps, past ATTEMPT_RETENTION, the attempt that scheduled a held retry, so the retry is swept when released', async () => {
    const held = await subscription();
    await updateWebhookSubscription(services, held, { status: 'PAUSED' });
    const old = services.config.attemptRetentionMs + HOUR;
    const retrying = await event(held, 'RETRYING', old, { attemptCount: 2 });
    await event(held, 'FAILED', old);
    // The retrying event's earlier attempt goes, as the finished event's does.
    await services.db.$executeRawUnsafe(
      `INSERT INTO "DeliveryAttempt" (id, "eventId", "subscriptionId", "attemptNumber", "attemptedAt", "durationMs", success, "nextAttemptAt")
       VALUES ($1::uuid, $2::uuid, $3::uuid, 1, now() - $4 * interval '1 ms', 5, false, now() - $4 * interval '1 ms')`,
      uuidv7(),
      retrying,
      held,
      old + 60_000,
    );
    await sweepOnce();

    expect(await deleteExpiredAttempts(services)).toBe(2);
    const left = await services.db.$queryRawUnsafe<{ eventId: string; attemptNumber: number }[]>(
      `SELECT "eventId"::text AS "eventId", "attemptNumber" FROM "DeliveryAttempt"`,
    );
    expect(left).toEqual([{ eventId: retrying, attemptNumber: 2 }]);

    await updateWebhookSubscription(services, held, { status: 'ACTIVE' });
    expect((await sweepOnce()).due).toEqual([retrying]);
  });

  it('records a retry held back while PostgreSQL was away as due no earlier than its commit', async () => {
    const subscriptionId = await subscription();
    const id = await event(subscriptionId, 'DELIVERING', 60_000, { attemptCount: 0 });
    const claimed = await services.db.event.findUniqueOrThrow({ where: { id } });
    const longAgo = new Date(Date.now() - 10 * 60_000);
    const before = Date.now();
    await recordAttempts(services, [
      {
        event: claimed,
        attemptNumber: 1,
        attemptedAt: longAgo,
        finishedAt: longAgo,
        durationMs: 5,
        success: false,
        gone: false,
        responseStatus: 500,
        responseBody: 'down',
        error: null,
        // The worker's choice when the attempt ended, ten minutes before the record commits.
        nextAttemptAt: new Date(longAgo.getTime() + 10_000),
        requestHeaders: {},
      },
    ]);
    expect(await dueTime(id)).toBeGreaterThanOrEqual(before - 1);
    const [row] = await services.db.$queryRawUnsafe<{ nextAttemptAt: Date }[]>(`SELECT "nextAttemptAt" FROM "Event" WHERE id = $1::uuid`, id);
    expect(row!.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(before - 1);
  });

  it('stays below a retry whose record is still open, so it is swept once committed', async () => {
    const subscriptionId = await subscription();
    const id = await event(subscriptionId, 'DELIVERING', 1_000, { attemptCount: 0 });
    const recording = new pg.Client({ connectionString: databaseUrl });
    await recording.connect();
    try {
      await beginOlderThanMargin(recording);
      // As RECORD_ATTEMPTS writes a failed first attempt: the retry due at the transaction's start.
      await recording.query(
        `INSERT INTO "DeliveryAttempt" (id, "eventId", "subscriptionId", "attemptNumber", "attemptedAt", "durationMs", success, "nextAttemptAt")
         VALUES ($1, $2, $3, 1, now(), 5, false, now())`,
        [uuidv7(), id, subscriptionId],
      );
      await recording.query(`UPDATE "Event" SET status = 'RETRYING', "attemptCount" = 1, "nextAttemptAt" = now() WHERE id = $1`, [id]);
      const at = (await recording.query<{ at: Date }>('SELECT now() AS at')).rows[0]!.at;
      // A sweep a minute from now reads past the retry's due time, but must not move past it.
      await sweepOnce();
      expect(await retryMark()).toBeLessThanOrEqual(at.getTime());
      await recording.query('COMMIT');
      expect((await sweepOnce()).due).toEqual([id]);
    } finally {
      await recording.end();
    }
  });

  it('stays below an insert still open, so its event is swept once committed', async () => {
    const subscriptionId = await subscription();
    const inserting = new pg.Client({ connectionString: databaseUrl });
    await inserting.connect();
    try {
      // The event's id carries its transaction's start (hookd_event_id), older than the margin.
      await beginOlderThanMargin(inserting);
      const [{ id }] = (
        await inserting.query(
          `INSERT INTO "Event" ("subscriptionId", payload, status, "nextAttemptAt", "updatedAt") VALUES ($1, '{}', 'PENDING', now(), now()) RETURNING id::text`,
          [subscriptionId],
        )
      ).rows;
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(uuidv7Time(id)).toBeLessThan(Date.now() - SWEEP_MARGIN_MS - 500);
      expect((await sweepOnce()).due).toEqual([]);
      expect(await mark() <= id).toBe(true);
      await inserting.query('COMMIT');
      expect((await sweepOnce()).due).toEqual([id]);
    } finally {
      await inserting.end();
    }
  });

  it('stays SWEEP_LOOKBACK_MS back when its role cannot see the sessions of other roles', async () => {
    const role = `hookd_sweep_probe_${process.pid}`;
    await services.db.$executeRawUnsafe(`DROP ROLE IF EXISTS ${role}`);
    await services.db.$executeRawUnsafe(`CREATE ROLE ${role} LOGIN`);
    await services.db.$executeRawUnsafe(`GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA public TO ${role}`);
    const url = new URL(databaseUrl);
    url.username = role;
    const limited = createServices(loadConfig({ ...stack().env, DATABASE_URL: url.toString(), QUEUE_PREFIX: queuePrefix }), 'test');
    try {
      // This file's own connections (another role) are open in the database.
      const before = Date.now();
      const scan = await scanForSweep(limited);
      expect(scan.openSince).toBeLessThanOrEqual(Date.now() - SWEEP_LOOKBACK_MS + 1_000);
      expect(scan.openSince).toBeGreaterThan(before - SWEEP_LOOKBACK_MS - 10_000);
      // Control: the same scan by a role that sees every session moves only the margin back.
      expect((await scanForSweep(services)).openSince).toBeGreaterThan(Date.now() - SWEEP_MARGIN_MS - 10_000);
    } finally {
      await limited.close();
      await services.db.$executeRawUnsafe(`DROP OWNED BY ${role}`);
      await services.db.$executeRawUnsafe(`DROP ROLE ${role}`);
    }
  });
});
