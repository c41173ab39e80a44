// The connections both processes share, built once from the Config.
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { createDatabase, type Database } from './db.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { Publisher, WatchedTopics } from './pubsub.ts';
import { DeliveryQueue } from './queue.ts';
import { createSqlPool, type SqlPool } from './sql.ts';
import { RouteCache, readSubscriptionRoutes } from './subscriptions.ts';

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

export interface Services {
  config: Config;
  log: Logger;
  db: Database;
  /** node-postgres, for the statements every event goes through (core/sql.ts). */
  sql: SqlPool;
  /**
   * For the worker's claims only: commits that do not wait for the disk. A claim lost in a
   * PostgreSQL crash leaves its event due as before, so it is delivered again (at least once,
   * as after any crash mid-delivery); the attempt's record, which must last, commits durably and
   * flushes the claim's WAL with it. Saves a third of a delivery's disk flushes.
   */
  claimSql: SqlPool;
  /** Commands (publish, health). */
  redis: Redis;
  /** Ingest's cached subscription lookup (core/subscriptions.ts). */
  routes: RouteCache;
  queue: DeliveryQueue;
  publisher: Publisher;
  metrics: Metrics;
  close(): Promise<void>;
}

/**
 * An ioredis client. Command clients fail fast when Redis is away (callers degrade, not hang);
 * a subscriber waits instead, and ioredis subscribes again after each reconnect.
 */
export function createRedis(config: Config, log: Logger, role: string, kind: 'commands' | 'subscriber' = 'commands'): Redis {
  const options =
    kind === 'commands'
      ? // Auto-pipelining sends the commands of one event-loop turn (many publishes) in one write.
        { maxRetriesPerRequest: 1, commandTimeout: 2_000, enableAutoPipelining: true }
      : { maxRetriesPerRequest: null, autoResubscribe: true };
  const redis = new Redis(config.redisUrl, { ...options, connectionName: `hookd-${role}` });
  let lastLogged = 0;
  redis.on('error', (error) => {
    // Reconnects are automatic; log at most every 10 s rather than on every retry.
    if (Date.now() - lastLogged > 10_000) {
      lastLogged = Date.now();
      log.warn('redis connection problem', { role, error: error.message });
    }
  });
  return redis;
}

/** Connections for the hot statements: each carries a batch of events, so a few suffice. */
const SQL_POOL_SIZE = 4;
/** Claims run one batch at a time per worker (core/delivery-store.ts). */
const CLAIM_POOL_SIZE = 2;

export function createServices(config: Config, processName: string, options: { dbPoolSize?: number } = {}): Services {
  const log = createLogger(processName, config.logLevel);
  const db = createDatabase(config.databaseUrl, options.dbPoolSize);
  const sql = createSqlPool(config.databaseUrl, SQL_POOL_SIZE, log);
  // pg connects lazily: a process that never claims opens no connection here.
  const claimSql = createSqlPool(config.databaseUrl, CLAIM_POOL_SIZE, log, { waitForFlush: false });
  const redis = createRedis(config, log, `${processName}-commands`);
  const queue = new DeliveryQueue({ redisUrl: config.redisUrl, prefix: config.queuePrefix });
  const watched = new WatchedTopics(redis, createRedis(config, log, `${processName}-watched`, 'subscriber'), config.queuePrefix);
  watched.start();
  const publisher = new Publisher(redis, config.queuePrefix, log, watched);
  const metrics = createMetrics(processName, queue);
  return {
    config,
    log,
    db,
    sql,
    claimSql,
    redis,
    routes: new RouteCache(readSubscriptionRoutes(db)),
    queue,
    publisher,
    metrics,
    async close() {
      await queue.close();
      watched.stop();
      redis.disconnect();
      await Promise.all([db.$disconnect(), sql.end(), claimSql.end()]);
    },
  };
}
