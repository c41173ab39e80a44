// The subscriptions page reads each subscription's latest attempt from that subscription's own
// index, whatever share of the attempts it holds. With few subscriptions the planner had preferred
// the global attemptedAt index walked backward, which for a quiet subscription passes every
// newer attempt of the busy ones: its read time grew with the table. The plan is checked as a
// generic one: the server's statements are prepared, and PostgreSQL may keep a generic plan
// after five calls.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturingClient, executeWithLiterals, type CapturedStatement } from '../../bench/lib/dashboard.ts';
import { CONNECTION_OPTIONS } from '../../core/db.ts';
import { lastAttemptBySubscription } from '../../core/stats.ts';
import { createTestDatabase, dropTestDatabase } from '../helpers/stack.ts';

const name = `hookd_attempt_plans_${process.pid}`;
const busy = randomUUID();
const quiet = randomUUID();
/** Attempts of the busy subscription, all newer than the quiet one's. */
const BUSY_ATTEMPTS = 40_000;
let sql: pg.Client;
let prisma: ReturnType<typeof capturingClient>;

beforeAll(async () => {
  const url = await createTestDatabase(name);
  sql = new pg.Client({ connectionString: url, options: CONNECTION_OPTIONS });
  await sql.connect();
  prisma = capturingClient(url);
  for (const id of [busy, quiet]) {
    await sql.query(
      `INSERT INTO "WebhookSubscription" (id, name, "targetUrl", secret, status, "createdAt", "updatedAt")
       VALUES ($1::uuid, $1::text, 'http://127.0.0.1:9/hook', 'whsec_YmVuY2htYXJrYmVuY2htYXJrYmVuY2htYXJr', 'ACTIVE', now() - interval '4 days', now())`,
      [id],
    );
  }
  // One event and one attempt per row: the quiet subscription's two days ago, the busy one's since.
  const seed = `
    WITH e AS (
      INSERT INTO "Event" (id, "subscriptionId", "eventType", payload, status, "attemptCount", "createdAt", "updatedAt", "deliveredAt")
      SELECT hookd_event_id(gen_random_uuid(), t.at), $1::uuid, 'plans', '{}', 'DELIVERED', 1, t.at, t.at, t.at
      FROM generate_series(1, $2::int) g, LATERAL (SELECT now() - $3::interval + g * $4::interval AS at) t
      RETURNING id, "subscriptionId", "createdAt")
    INSERT INTO "DeliveryAttempt" (id, "eventId", "subscriptionId", "attemptNumber", "attemptedAt", "durationMs", success, "responseStatus")
    SELECT gen_random_uuid(), e.id, e."subscriptionId", 1, e."createdAt", 5, true, 200 FROM e`;
  await sql.query(seed, [quiet, 10, '2 days', '1 second']);
  await sql.query(seed, [busy, BUSY_ATTEMPTS, '1 day', '1 second']);
  await sql.query('ANALYZE "DeliveryAttempt"');
});

afterAll(async () => {
  await Promise.all([sql?.end(), prisma?.close()]);
  await dropTestDatabase(name);
});

let probes = 0;
/** EXPLAIN ANALYZE of a statement Prisma sent, run as a generic prepared statement. */
async function genericPlan(statement: CapturedStatement): Promise<string> {
  const probe = `probe_${probes++}`;
  await sql.query('SET plan_cache_mode = force_generic_plan');
  try {
    await sql.query({ name: probe, text: statement.sql, values: statement.params });
    const plan = await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${await executeWithLiterals(sql, probe, statement.params)}`);
    return plan.rows.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    await sql.query(`DEALLOCATE ${probe}`);
    await sql.query('RESET plan_cache_mode');
  }
}

/** The plan of the one statement on DeliveryAttempt that `run` makes. */
async function attemptReadPlan(run: Parameters<typeof prisma.capture>[0]): Promise<string> {
  const statements = (await prisma.capture(run)).filter((statement) => statement.sql.includes('"DeliveryAttempt"'));
  expect(statements).toHaveLength(1);
  return genericPlan(statements[0]!);
}

function expectOwnIndex(plan: string): void {
  expect(plan).toContain('DeliveryAttempt_subscriptionId_attemptedAt_id_idx');
  expect(plan).not.toContain('DeliveryAttempt_attemptedAt_id_idx');
  // Rows read and thrown away: none when the index holds only the subscription's own.
  const removed = [...plan.matchAll(/Rows Removed by Filter: (\d+)/g)].map((match) => Number(match[1]));
  expect(Math.max(0, ...removed)).toBeLessThan(100);
}

describe("a subscription's latest attempt", () => {
  it('comes from its own index, for a quiet subscription beside a busy one', async () => {
    const latest = await lastAttemptBySubscription(prisma.db as never, [busy, quiet]);
    expect(latest.get(quiet)?.subscriptionId).toBe(quiet);
    expect(latest.get(busy)?.subscriptionId).toBe(busy);
    expectOwnIndex(await attemptReadPlan((db) => lastAttemptBySubscription(db as never, [busy, quiet])));
  });
});

// Migration 20261130130000_idempotency_key_indexes_partial: the two idempotency key indexes hold
// only keys. The events seeded above carry none.
describe('idempotency key lookups', () => {
  it('use indexes that hold only keys', async () => {
    const indexes = await sql.query<{ indexname: string; indexdef: string; bytes: string }>(
      `SELECT indexname, indexdef, pg_relation_size(format('%I', indexname)::regclass)::text AS bytes FROM pg_indexes
       WHERE tablename = 'Event' AND indexname IN ('Event_idempotencyKey_idx', 'Event_subscriptionId_idempotencyKey_key') ORDER BY indexname`,
    );
    expect(indexes.rows.map((row) => row.indexname)).toEqual(['Event_idempotencyKey_idx', 'Event_subscriptionId_idempotencyKey_key']);
    for (const row of indexes.rows) {
      expect(row.indexdef).toContain('WHERE ("idempotencyKey" IS NOT NULL)');
      // 40,010 keyless events: an index of them all would take hundreds of pages.
      expect(Number(row.bytes)).toBeLessThanOrEqual(2 * 8192);
    }
    const bySubscription = (await prisma.capture((db) => db.event.findMany({ where: { OR: [{ subscriptionId: busy, idempotencyKey: 'k-1' }] } })))
      .filter((statement) => statement.sql.includes('"Event"'));
    expect(bySubscription).toHaveLength(1);
    expect(await genericPlan(bySubscription[0]!)).toContain('Event_subscriptionId_idempotencyKey_key');
    const byKey = (await prisma.capture((db) => db.event.findMany({ where: { idempotencyKey: 'k-1', eventType: 'plans' } })))
      .filter((statement) => statement.sql.includes('"Event"'));
    expect(byKey).toHaveLength(1);
    // Either index (both are a page here); never a scan of the keyless events.
    const plan = await genericPlan(byKey[0]!);
    expect(plan).toMatch(/Index Scan on "Event_(idempotencyKey_idx|subscriptionId_idempotencyKey_key)"/);
    expect(plan).not.toContain('Seq Scan');
  });
});
