// Prisma's statements are prepared once per connection (core/db.ts createStatementNamer), so
// PostgreSQL parses and plans them once, not on every call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../core/db.ts';
import { createTestDatabase, dropTestDatabase } from '../helpers/stack.ts';

const name = `hookd_prepared_statements_${process.pid}`;
let db: Database;

beforeAll(async () => {
  // One connection, so the session asked about its prepared statements is the one that ran them.
  db = createDatabase(await createTestDatabase(name), 1);
});

afterAll(async () => {
  await db?.$disconnect();
  await dropTestDatabase(name);
});

const prepared = () => db.$queryRaw<{ name: string; statement: string }[]>`SELECT name, statement FROM pg_prepared_statements`;

describe('Prisma statements', () => {
  it('are prepared in the session, once per text, and keep returning right results', async () => {
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

  it('leave statements without parameters as simple queries, which may hold several commands', async () => {
    await expect(db.$executeRawUnsafe('SELECT 1; SELECT 2')).resolves.toBeDefined();
    expect((await prepared()).some((row) => row.statement.includes('SELECT 1; SELECT 2'))).toBe(false);
  });
});
