// The connections both processes share, built once from the Config.
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { createDatabase, type Database } from './db.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { Publisher } from './pubsub.ts';
import { DeliveryQueue } from './queue.ts';
import { createSqlPool, type SqlPool } from './sql.ts';

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

export interface Services {
  config: Config;
  log: Logger;
  db: Database;
  /** node-postgres, for the statements every event goes through (core/sql.ts). */
  sql: SqlPool;
  /** Commands (cache, publish). */
  redis: Redis;
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

export function createServices(config: Config, processName: string, options: { dbPoolSize?: number } = {}): Services {
  const log = createLogger(processName, config.logLevel);
  const db = createDatabase(config.databaseUrl, options.dbPoolSize);
  const sql = createSqlPool(config.databaseUrl, SQL_POOL_SIZE, log);
  const redis = createRedis(config, log, `${processName}-commands`);
  const queue = new DeliveryQueue({ redisUrl: config.redisUrl, prefix: config.queuePrefix });
  const publisher = new Publisher(redis, config.queuePrefix, log);
  const metrics = createMetrics(processName, queue);
  return {
    config,
    log,
    db,
    sql,
    redis,
    queue,
    publisher,
    metrics,
    async close() {
      await queue.close();
      redis.disconnect();
      await Promise.all([db.$disconnect(), sql.end()]);
    },
  };
}
