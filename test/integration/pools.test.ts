// hookd's PostgreSQL pools keep their connections through a pause: a burst after a quiet spell
// must not wait for new connections and for its statements to be prepared on them again.
// Prisma's pool takes the same POOL_SETTINGS (core/db.ts) as the node-postgres pools tested here.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../core/log.ts';
import { createSqlPool, type SqlPool } from '../../core/sql.ts';
import { createTestDatabase, dropTestDatabase } from '../helpers/stack.ts';

const name = `hookd_pools_${process.pid}`;
let pool: SqlPool;

beforeAll(async () => {
  pool = createSqlPool(await createTestDatabase(name), 2, createLogger('test', 'error'));
});

afterAll(async () => {
  await pool?.end();
  await dropTestDatabase(name);
});

describe('PostgreSQL pools', () => {
  it('keep idle connections open through a pause', async () => {
    const backend = async () => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const before = await backend();
    // A pool times out an idle connection with a timer set when the connection is released:
    // released under fake timers, ten minutes pass at once.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const client = await pool.connect();
      client.release();
      vi.advanceTimersByTime(10 * 60_000);
    } finally {
      vi.useRealTimers();
    }
    expect(pool.totalCount).toBe(1);
    // The same session, not a new one opened on demand.
    expect(await backend()).toBe(before);
  });
});
