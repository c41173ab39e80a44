// The statements every event goes through run as generic plans (planned once per connection):
// their shape must not depend on the tables' size, or a plan made on an empty table (a
// sequential scan) would be kept as the table grows to millions of rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAIM_EVENTS, RECORD_ATTEMPTS } from '../../core/delivery-store.ts';
import { INSERT_EVENTS } from '../../core/ingest.ts';
import { createLogger } from '../../core/log.ts';
import { createSqlPool, type SqlPool, type Statement } from '../../core/sql.ts';
import { createTestDatabase, dropTestDatabase } from '../helpers/stack.ts';

const name = `hookd_hot_statements_${process.pid}`;
const log = createLogger('test', 'error');
let pool: SqlPool;
let claimPool: SqlPool;

beforeAll(async () => {
  const url = await createTestDatabase(name);
  pool = createSqlPool(url, 1, log);
  claimPool = createSqlPool(url, 1, log, { waitForFlush: false });
});

afterAll(async () => {
  await Promise.all([pool?.end(), claimPool?.end()]);
  await dropTestDatabase(name);
});

/** The plan a connection of `on` uses for `statement` (NULL for every parameter: only the shape matters). */
async function plan(on: SqlPool, statement: Statement): Promise<string> {
  const client = await on.connect();
  try {
    const parameters = [...statement.text.matchAll(/\$(\d+)/g)].reduce((most, match) => Math.max(most, Number(match[1])), 0);
    await client.query(`PREPARE probe AS ${statement.text}`);
    const rows = (await client.query(`EXPLAIN EXECUTE probe(${Array.from({ length: parameters }, () => 'NULL').join(', ')})`)).rows;
    await client.query('DEALLOCATE probe');
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    client.release();
  }
}

async function plans(): Promise<Record<string, string>> {
  return {
    insert: await plan(pool, INSERT_EVENTS),
    claim: await plan(claimPool, CLAIM_EVENTS),
    record: await plan(pool, RECORD_ATTEMPTS),
  };
}

/** The plan without its cost estimates, which do change with the tables. */
const shape = (text: string) => text.replace(/\s*\(cost=[^)]*\)/g, '');

describe('hot statements', () => {
  it('find events by primary key, on an empty table and on a grown one alike', async () => {
    const empty = await plans();
    for (const text of [empty.claim, empty.record]) {
      expect(text).toContain('Index Scan using "Event_pkey" on "Event" e');
      expect(text).not.toMatch(/Seq Scan|Hash Join|Merge Join/);
    }
    expect(empty.insert).not.toMatch(/Seq Scan/);
    // Each row's route version is checked by the subscription's primary key.
    expect(empty.insert).toContain('Index Scan using "WebhookSubscription_pkey" on "WebhookSubscription" s');

    const direct = await pool.connect();
    try {
      await direct.query(`INSERT INTO "WebhookSubscription" (id, name, "targetUrl", secret, "createdAt", "updatedAt")
        SELECT gen_random_uuid(), 'hot ' || i, 'https://example.com/' || i, 'whsec_x', now(), now() FROM generate_series(1, 50) i`);
      await direct.query(`INSERT INTO "Event" (id, "subscriptionId", payload, status, "createdAt", "updatedAt")
        SELECT gen_random_uuid(), s.id, '{}', 'DELIVERED', now(), now() FROM "WebhookSubscription" s, generate_series(1, 1000)`);
      await direct.query('ANALYZE');
    } finally {
      direct.release();
    }
    const grown = await plans();
    expect(Object.fromEntries(Object.entries(grown).map(([key, text]) => [key, shape(text)]))).toEqual(
      Object.fromEntries(Object.entries(empty).map(([key, text]) => [key, shape(text)])),
    );
  });

  it('commit claims without waiting for the disk, and everything else durably', async () => {
    const setting = async (on: SqlPool) => (await on.query('SHOW synchronous_commit')).rows[0].synchronous_commit;
    expect(await setting(pool)).toBe('on');
    expect(await setting(claimPool)).toBe('off');
  });
});
