// The few statements every event goes through (ingest's INSERT, the worker's claim and record)
// run on node-postgres directly, as named prepared statements (parsed once per connection), so
// no ORM work sits between the rows and the wire. Everything else goes through Prisma.
import pg from 'pg';
import { CONNECTION_OPTIONS } from './db.ts';
import type { Logger } from './log.ts';

export type SqlPool = pg.Pool;

export interface Statement {
  /** Unique per statement text: a connection prepares it under this name once. */
  name: string;
  text: string;
}

/** Same timeouts as Prisma's pool (core/db.ts): with PostgreSQL away, callers get an error, not a hang. */
export function createSqlPool(databaseUrl: string, max: number, log: Logger): SqlPool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: 2_000,
    // Planned at every call with the real arrays: a cached generic plan guesses 100 rows for
    // each unnest() and may pick a sequential scan (measured: PostgreSQL CPU per event doubled).
    options: `${CONNECTION_OPTIONS} -c plan_cache_mode=force_custom_plan`,
  });
  // An idle connection that PostgreSQL closes must not crash the process; the pool replaces it.
  pool.on('error', (error) => log.warn('an idle PostgreSQL connection failed', { error }));
  return pool;
}

export async function query<Row>(pool: SqlPool, statement: Statement, values: unknown[]): Promise<Row[]> {
  const result = await pool.query({ name: statement.name, text: statement.text, values });
  return result.rows as Row[];
}
