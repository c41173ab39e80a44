// Readiness, as the server's and the worker's GET /ready answer it: ready while PostgreSQL and
// Redis both answer, each asked with a time limit, so a check never hangs on a dead connection.
import type { Services } from './services.ts';

const CHECK_TIMEOUT_MS = 2_000;

export interface Readiness {
  ready: boolean;
  /** `ok`, or `unavailable: <why>` for each dependency (and whatever the caller adds). */
  checks: Record<string, string>;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timed out')), ms).unref())]);
}

function check(promise: Promise<unknown>): Promise<string> {
  return withTimeout(promise, CHECK_TIMEOUT_MS).then(
    () => 'ok',
    (error: Error) => `unavailable: ${error.message}`,
  );
}

/** PostgreSQL and Redis, asked at the same time. */
export async function readiness(services: Services): Promise<Readiness> {
  const [postgres, redis] = await Promise.all([check(services.db.$queryRaw`SELECT 1`), check(services.redis.ping())]);
  return { ready: postgres === 'ok' && redis === 'ok', checks: { postgres, redis } };
}

/** The JSON body /ready answers with, and its status: 200 when ready, else 503. */
export function readinessAnswer({ ready, checks }: Readiness): { status: 200 | 503; body: Record<string, string> } {
  return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'unavailable', ...checks } };
}
