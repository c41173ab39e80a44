// The Prisma client over node-postgres (Prisma 7 driver adapter).
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.ts';

export { Prisma } from './generated/prisma/client.ts';
export type { DeliveryAttempt, Event, WebhookSubscription } from './generated/prisma/client.ts';
export { EventStatus, WebhookSubscriptionStatus } from './generated/prisma/enums.ts';

export type Database = PrismaClient;

/** How long a query waits for a connection: with PostgreSQL away, callers get an error, not a hang. */
const CONNECT_TIMEOUT_MS = 2_000;

/**
 * Planner costs for data that lives in memory or on SSD (PostgreSQL's default of 4 dates from
 * spinning disks): with it, a subscription's first page of events walked the global createdAt
 * index past every newer event of other subscriptions instead of using its own index.
 */
export const CONNECTION_OPTIONS = '-c random_page_cost=1.1';

export function createDatabase(databaseUrl: string, poolSize = 10): Database {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    options: CONNECTION_OPTIONS,
  });
  return new PrismaClient({ adapter });
}

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
