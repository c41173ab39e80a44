// The Prisma client over node-postgres (Prisma 7 driver adapter).
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.ts';

export type { Prisma } from './generated/prisma/client.ts';
export type { DeliveryAttempt, Event, WebhookSubscription } from './generated/prisma/client.ts';
export { EventStatus, WebhookSubscriptionStatus } from './generated/prisma/enums.ts';

export type Database = PrismaClient;

export function createDatabase(databaseUrl: string, poolSize = 10): Database {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: poolSize });
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
