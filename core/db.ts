// The Prisma client over node-postgres (Prisma 7 driver adapter).
import { createHash } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { Prisma, PrismaClient } from './generated/prisma/client.ts';

export { Prisma };
export type { DeliveryAttempt, Event, WebhookSubscription } from './generated/prisma/client.ts';
export { EventStatus, WebhookSubscriptionStatus } from './generated/prisma/enums.ts';

export type Database = PrismaClient;

/**
 * What every pool of hookd's shares (Prisma's here, node-postgres' in core/sql.ts).
 * - A query waits at most 2 s for a connection: with PostgreSQL away, callers get an error, not a hang.
 * - Idle connections stay open (node-postgres closes them after 10 s by default): a burst after
 *   a pause would otherwise wait for new connections and prepare its statements again. Measured
 *   here, a 1 s burst at 2,000 events/s after 15 s idle: ingest→receiver p50 97 ms with the
 *   default, 20 ms with connections kept. The pools are small, and a busy process holds every
 *   connection of them anyway.
 */
export const POOL_SETTINGS = { connectionTimeoutMillis: 2_000, idleTimeoutMillis: 0 } as const;

/**
 * Planner costs for data that lives in memory or on SSD (PostgreSQL's default of 4 dates from
 * spinning disks): with it, a subscription's first page of events walked the global createdAt
 * index past every newer event of other subscriptions instead of using its own index.
 */
export const CONNECTION_OPTIONS = '-c random_page_cost=1.1';

/** Distinct statements a process prepares at most; later ones run unnamed (parsed each call). */
export const MAX_PREPARED_STATEMENTS = 500;
/** Statements with more parameters than this vary with their input's size (a long IN list, many rows): not prepared. */
export const MAX_PREPARED_PARAMETERS = 32;

/**
 * Names for Prisma's statements, so that each connection parses and plans a statement once and
 * then only binds and runs it, as PostgreSQL's prepared statements do: unnamed, every call was
 * parsed and planned afresh, and the dashboard's aggregates spent 1 to 2.5 ms in that before
 * running for 0.1 to 0.5 ms. A name is a hash of the text, so the same text gets the same name
 * on every connection and two texts never share one. Statements whose text depends on the
 * input's size, and any beyond the first MAX_PREPARED_STATEMENTS, stay unnamed: each name
 * costs memory in every PostgreSQL session that runs it. So do statements without parameters:
 * node-postgres sends those as simple queries, which may hold several commands (a named one
 * may not).
 */
export function createStatementNamer(maxStatements = MAX_PREPARED_STATEMENTS): (query: { sql: string; args: readonly unknown[] }) => string | undefined {
  const names = new Map<string, string>();
  return ({ sql, args }) => {
    const known = names.get(sql);
    if (known !== undefined) return known;
    if (args.length === 0 || args.length > MAX_PREPARED_PARAMETERS || names.size >= maxStatements) return undefined;
    const name = `hookd_${createHash('sha256').update(sql).digest('hex').slice(0, 32)}`;
    names.set(sql, name);
    return name;
  };
}

export function createDatabase(databaseUrl: string, poolSize = 10): Database {
  const adapter = new PrismaPg(
    {
      connectionString: databaseUrl,
      max: poolSize,
      ...POOL_SETTINGS,
      options: CONNECTION_OPTIONS,
    },
    // The adapter passes the name on to node-postgres, for which none (undefined) means unnamed;
    // its typings ask for a string.
    { statementNameGenerator: createStatementNamer() as (query: { sql: string; args: unknown[] }) => string },
  );
  return new PrismaClient({ adapter });
}

/**
 * A table's columns as a list for SELECT or RETURNING (`e."id", e."status", …`), from Prisma's
 * model. hookd's statements are prepared, and a prepared statement that returns `*` fails on
 * every call ("cached plan must not change result type") once a migration adds a column, until
 * its connection is replaced: servers still running while a newer version migrates would stop
 * ingesting. A list returns the columns the running code knows, whatever is added.
 */
export function columnList(columns: Readonly<Record<string, string>>, alias?: string): string {
  return Object.values(columns)
    .map((column) => (alias ? `${alias}."${column}"` : `"${column}"`))
    .join(', ');
}

export const EVENT_COLUMNS = Prisma.EventScalarFieldEnum;
export const ATTEMPT_COLUMNS = Prisma.DeliveryAttemptScalarFieldEnum;

/** Prisma's code for a unique constraint violation. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002';
}

/** Prisma's code for "the record to update or delete was not found". */
export function isRecordNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2025';
}

/** A deadlock or write conflict: PostgreSQL rolled the statement back, and running it again is right. */
export function isWriteConflict(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2034';
}

const UNAVAILABLE_CODES = new Set([
  // Prisma's
  'P1001', 'P1002', 'P1008', 'P1017', 'P2024',
  // node-postgres': the socket's, and PostgreSQL's connection-exception and shutdown SQLSTATEs
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', '08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03',
]);
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TransactionAlreadyClosed']);

/** Whether an error means PostgreSQL cannot be reached now (as opposed to a bad query). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, meta, message } = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: unknown } } }; message?: unknown };
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  const kind = meta?.driverAdapterError?.cause?.kind;
  if (typeof kind === 'string' && UNAVAILABLE_KINDS.has(kind)) return true;
  return (
    typeof message === 'string' &&
    /Connection terminated|ECONNREFUSED|timeout exceeded when trying to connect|Can't reach database server|not queryable/i.test(message)
  );
}
