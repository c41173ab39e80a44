// The few statements every event goes through (ingest's INSERT, the worker's claim and record)
// run on node-postgres directly, as named prepared statements (parsed once per connection), so
// no ORM work sits between the rows and the wire. Everything else goes through Prisma.
import pg from 'pg';
import { CONNECTION_OPTIONS, POOL_SETTINGS } from './db.ts';
import type { Logger } from './log.ts';

export type SqlPool = pg.Pool;

export interface Statement {
  /** Unique per statement text: a connection prepares it under this name once. */
  name: string;
  text: string;
}

/**
 * Same pool settings as Prisma's (core/db.ts: connect timeout, idle connections kept).
 * `waitForFlush: false` is for statements whose loss in a PostgreSQL crash is harmless (see
 * Services.claimSql): their commits return before the WAL is flushed to disk.
 */
export function createSqlPool(databaseUrl: string, max: number, log: Logger, { waitForFlush = true }: { waitForFlush?: boolean } = {}): SqlPool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    ...POOL_SETTINGS,
    // Planned once per connection, in one shape whatever the tables' size: every statement
    // here finds its rows by primary key from a short array, so nested loops over index scans
    // are always right. Planning each call (custom plans) was a quarter of PostgreSQL's CPU per
    // event; a generic plan left to the planner chose sequential scans while the tables were
    // small and kept them as they grew.
    options: [
      CONNECTION_OPTIONS,
      '-c plan_cache_mode=force_generic_plan -c enable_seqscan=off -c enable_hashjoin=off -c enable_mergejoin=off',
      waitForFlush ? '' : '-c synchronous_commit=off',
    ].filter(Boolean).join(' '),
  });
  // An idle connection that PostgreSQL closes must not crash the process; the pool replaces it.
  pool.on('error', (error) => log.warn('an idle PostgreSQL connection failed', { error }));
  return pool;
}

export async function query<Row>(pool: SqlPool, statement: Statement, values: unknown[]): Promise<Row[]> {
  const result = await pool.query({ name: statement.name, text: statement.text, values });
  return result.rows as Row[];
}
