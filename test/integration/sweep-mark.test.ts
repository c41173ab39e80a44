// The sweeper reads "Event" from its mark on, not the whole table: the mark must move up past
// finished events, stay at or below every open one, and go down, in the same transaction, when
// an older event is opened again (a redelivery, a subscription made ACTIVE again). A database
// and QUEUE_PREFIX of its own, and no worker: the tests run the sweeper's steps themselves.
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { uuidv7, uuidv7Time } from '../../core/ids.ts';
import { redeliverEvent } from '../../core/ingest.ts';
import { createServices, type Services } from '../../core/services.ts';
import { updateWebhookSubscription } from '../../core/subscriptions.ts';
import { advanceSweepMark, scanForSweep, sweep, SWEEP_LOOKBACK_MS, SWEEP_MARGIN_MS, sweepStatements } from '../../worker/maintenance.ts';
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
  await services.db.$executeRawUnsafe(`UPDATE "SweepMark" SET "openFrom" = '00000000-0000-0000-0000-000000000000'`);
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

/** An event created `agoMs` ago (its id carries that time), in `status`, due since then. */
async function event(subscriptionId: string, status: string, agoMs: number): Promise<string> {
  const at = Date.now() - agoMs;
  const id = uuidv7(at);
  await services.db.$executeRawUnsafe(
    `INSERT INTO "Event" (id, "subscriptionId", payload, status, "attemptCount", "nextAttemptAt", "createdAt", "updatedAt")
     VALUES ($1::uuid, $2::uuid, '{}', $3::"EventStatus", $4, $5, $5, $5)`,
    id,
    subscriptionId,
    status,
    status === 'PENDING' ? 0 : 1,
    new Date(at),
  );
  return id;
}

async function mark(): Promise<string> {
  const [row] = await services.db.$queryRawUnsafe<{ openFrom: string }[]>(`SELECT "openFrom"::text AS "openFrom" FROM "SweepMark"`);
  return row!.openFrom;
}

/** A sweep as the worker runs it, a minute from now (so events just made due count as due). */
async function sweepOnce(): Promise<{ due: string[]; moved: boolean }> {
  const now = Date.now() + 60_000;
  const scan = await scanForSweep(services, now);
  const moved = await advanceSweepMark(services, scan);
  return { due: scan.due.map((found) => found.id), moved };
}

describe('the sweep mark', () => {
  it('moves up to the first open event, and past finished ones to just before now', async () => {
    const subscriptionId = await subscription();
    await event(subscriptionId, 'DELIVERED', 3 * HOUR);
    const retrying = await event(subscriptionId, 'RETRYING', 2 * HOUR);
    await event(subscriptionId, 'FAILED', HOUR);

    const first = await sweepOnce();
    expect(first.moved).toBe(true);
    expect(first.due).toEqual([retrying]);
    expect(await mark()).toBe(retrying);

    await services.db.$executeRawUnsafe(`UPDATE "Event" SET status = 'DELIVERED' WHERE id = $1::uuid`, retrying);
    await sweepOnce();
    // Past the finished events, up to SWEEP_MARGIN_MS before now (nothing else is open here).
    expect(await mark() > uuidv7(Date.now() - SWEEP_MARGIN_MS - 10_000)).toBe(true);
    expect(await mark() <= uuidv7(Date.now() - SWEEP_MARGIN_MS)).toBe(true);
  });

  it('bounds the scan: an event opened behind its back (straight SQL) is not read', async () => {
    const subscriptionId = await subscription();
    const old = await event(subscriptionId, 'DELIVERED', HOUR);
    await sweepOnce();
    await services.db.$executeRawUnsafe(`UPDATE "Event" SET status = 'PENDING', "nextAttemptAt" = now() WHERE id = $1::uuid`, old);
    expect((await sweepOnce()).due).toEqual([]);
    // A fresh event still is.
    const fresh = await event(subscriptionId, 'PENDING', 1_000);
    expect((await sweepOnce()).due).toEqual([fresh]);
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

  it('does not move when an event was opened again between its scan and its move', async () => {
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

  it('passes events a PAUSED subscription holds, and goes down to them when it is made ACTIVE again', async () => {
    const held = await subscription();
    await updateWebhookSubscription(services, held, { status: 'PAUSED' });
    const waiting = await event(held, 'PENDING', 2 * HOUR);
    const retrying = await event(held, 'RETRYING', HOUR);

    // Held events are not due and do not hold the mark back.
    expect((await sweepOnce()).due).toEqual([]);
    expect(await mark() > retrying).toBe(true);

    await updateWebhookSubscription(services, held, { status: 'ACTIVE' });
    expect(await mark()).toBe(waiting);
    expect((await sweepOnce()).due.sort()).toEqual([waiting, retrying].sort());
  });

  it('counts a DELIVERING event as open whatever its subscription, and the worker hands it back', async () => {
    const subscriptionId = await subscription();
    const stuck = await event(subscriptionId, 'DELIVERING', HOUR);
    await updateWebhookSubscription(services, subscriptionId, { status: 'PAUSED' });
    await sweepOnce();
    expect(await mark()).toBe(stuck);

    // The sweep proper releases it (RETRYING); held by the PAUSED subscription, it is then passed.
    await sweep(services);
    const [row] = await services.db.$queryRawUnsafe<{ status: string }[]>(`SELECT status::text FROM "Event" WHERE id = $1::uuid`, stuck);
    expect(row!.status).toBe('RETRYING');
    await sweepOnce();
    expect(await mark() > stuck).toBe(true);
  });

  it('reads a grown table by primary key from the mark on, not all of it', async () => {
    const subscriptionId = await subscription();
    // 20,000 finished events over the last 3 days, ids of their creation time.
    await services.db.$executeRawUnsafe(
      `INSERT INTO "Event" (id, "subscriptionId", payload, status, "createdAt", "updatedAt")
       SELECT hookd_event_id(gen_random_uuid(), t.at), $1::uuid, '{}', 'DELIVERED', t.at, t.at
       FROM generate_series(1, 20000) g, LATERAL (SELECT now() - interval '72 hours' * (g::float8 / 20000) - interval '1 minute' AS at) t`,
      subscriptionId,
    );
    await services.db.$executeRawUnsafe('ANALYZE "Event"');
    await sweepOnce();
    const markedFrom = await mark();
    const now = Date.now();
    const scan = sweepStatements.scan(markedFrom, new Date(now), new Date(now), 1_000);
    const plan = (await services.db.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN (ANALYZE, COSTS OFF) ${scan.text}`, ...scan.values))
      .map((line) => line['QUERY PLAN'])
      .join('\n');
    expect(plan).toMatch(/Index Scan using "Event_pkey" on "Event" e/);
    expect(plan).not.toMatch(/Seq Scan on "Event"/);
    // It reads the events of the last SWEEP_LOOKBACK_MS (about 20 of them), not 20,000.
    const removed = Number(/Rows Removed by Filter: (\d+)/.exec(plan)?.[1] ?? 0);
    expect(removed).toBeLessThan(200);
  });

  it('stays below an insert still open, so its event is swept once committed', async () => {
    const subscriptionId = await subscription();
    const inserting = new pg.Client({ connectionString: databaseUrl });
    await inserting.connect();
    try {
      await inserting.query('BEGIN');
      // The event's id carries its transaction's start (hookd_event_id), older than the margin.
      await waitFor(async () => (await inserting.query(`SELECT now() < clock_timestamp() - $1 * interval '1 ms' AS old`, [SWEEP_MARGIN_MS + 1_000])).rows[0].old, {
        timeoutMs: 10_000,
        intervalMs: 200,
        what: 'the transaction older than the margin',
      });
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
