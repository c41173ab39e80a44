// hookd's statements are prepared once per connection (Prisma's by core/db.ts
// createStatementNamer, the per-event ones by core/sql.ts), so PostgreSQL parses and plans them
// once, not on every call; and they keep working when a migration adds columns.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database, type Event } from '../../core/db.ts';
import { CLAIM_EVENTS } from '../../core/delivery-store.ts';
import { INSERT_EVENTS } from '../../core/ingest.ts';
import { createLogger } from '../../core/log.ts';
import { createSqlPool, query, type SqlPool } from '../../core/sql.ts';
import { lastAttemptBySubscription } from '../../core/stats.ts';
import { createTestDatabase, dropTestDatabase } from '../helpers/stack.ts';

const name = `hookd_prepared_statements_${process.pid}`;
let db: Database;
let sql: SqlPool;

beforeAll(async () => {
  const url = await createTestDatabase(name);
  // One connection each, so the session asked about its prepared statements is the one that ran them.
  db = createDatabase(url, 1);
  sql = createSqlPool(url, 1, createLogger('test', 'error'));
});

afterAll(async () => {
  await Promise.all([db?.$disconnect(), sql?.end()]);
  await dropTestDatabase(name);
});

const prepared = () => db.$queryRaw<{ name: string; statement: string }[]>`SELECT name, statement FROM pg_prepared_statements`;

describe('prepared statements', () => {
  it("Prisma's are prepared in the session, once per text, and keep returning right results", async () => {
    const created = await db.webhookSubscription.create({
      data: { name: 'prepared', targetUrl: 'https://example.com/hook', secret: 'whsec_cHJlcGFyZWRwcmVwYXJlZHByZXBhcmVk' },
    });
    for (let i = 0; i < 8; i++) {
      // Past PostgreSQL's five custom plans, so a generic plan (if it chooses one) is used too.
      const found = await db.webhookSubscription.findUnique({ where: { id: created.id } });
      expect(found?.name).toBe('prepared');
    }
    const lookups = (await prepared()).filter((row) => row.name.startsWith('hookd_') && /FROM "public"."WebhookSubscription"/.test(row.statement));
    expect(lookups).toHaveLength(1);
    expect(await db.webhookSubscription.findUnique({ where: { id: '00000000-0000-0000-0000-000000000000' } })).toBeNull();
  });

  it('leave Prisma statements without parameters unnamed: simple queries, which may hold several commands', async () => {
    await expect(db.$executeRawUnsafe('SELECT 1; SELECT 2')).resolves.toBeDefined();
    expect((await prepared()).some((row) => row.statement.includes('SELECT 1; SELECT 2'))).toBe(false);
  });

  it('keep working on the same connections after a migration adds columns to the tables they return', async () => {
    const subscription = await db.webhookSubscription.create({
      data: { name: 'migrated', targetUrl: 'https://example.com/migrated', secret: 'whsec_bWlncmF0ZWRtaWdyYXRlZG1pZ3JhdGVk' },
    });
    // What ingest, a claim and the subscriptions page run, each prepared on its connection.
    const ingestAndClaim = async () => {
      const [event] = await query<Event>(sql, INSERT_EVENTS, [
        [randomUUID()], [subscription.id], ['migrated.test'], ['{"n":1}'], [null], ['PENDING'], [new Date().toISOString()],
        [subscription.routeVersion],
      ]);
      const [claimed] = await query<Event>(sql, CLAIM_EVENTS, [[event!.id], [0]]);
      expect(claimed).toMatchObject({ id: event!.id, status: 'DELIVERING' });
      await db.deliveryAttempt.create({
        data: { eventId: event!.id, subscriptionId: subscription.id, attemptNumber: 1, durationMs: 3, success: true, responseStatus: 200 },
      });
      const last = (await lastAttemptBySubscription(db, [subscription.id])).get(subscription.id);
      expect(last).toMatchObject({ eventId: event!.id, success: true });
      return { event: event!, claimed: claimed!, last: last! };
    };
    await ingestAndClaim();

    await sql.query('ALTER TABLE "Event" ADD COLUMN "addedLater" int');
    await sql.query('ALTER TABLE "DeliveryAttempt" ADD COLUMN "addedLater" int');
    const after = await ingestAndClaim();
    // The rows are what this version of the code knows.
    expect(Object.keys(after.event)).not.toContain('addedLater');
    expect(Object.keys(after.last)).not.toContain('addedLater');
  });
});
