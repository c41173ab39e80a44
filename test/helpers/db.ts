// Direct reads of the test database, to check what was (not) written.
import pg from 'pg';
import { afterAll } from 'vitest';
import { stack } from './api.ts';

let pool: pg.Pool | undefined;

export async function sql<T = any>(text: string, values: unknown[] = []): Promise<T[]> {
  if (!pool) {
    pool = new pg.Pool({ connectionString: stack().databaseUrl, max: 2 });
    afterAll(async () => {
      await pool?.end();
      pool = undefined;
    });
  }
  return (await pool.query(text, values)).rows as T[];
}
