// Stage 1, the ceilings of this machine, measured in the same run: a plain undici POST loop to
// the same receiver with the worker's concurrency; a loop doing only what a delivery must
// record in PostgreSQL (one INSERT and one UPDATE, in a transaction); and the naive half-job, a
// minimal pipeline that dequeues a Bee-Queue job, POSTs, records those two rows (one commit
// each) and publishes, with no ingest, no claim and no batching. hookd doing the whole job must
// be at least as fast as that half-job.
import { randomUUID } from 'node:crypto';
import BeeQueue from 'bee-queue';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Pool } from 'undici';
import { REDIS_URL, deleteRedisKeys } from '../../test/helpers/stack.ts';
import type { BenchContext } from '../lib/context.ts';
import { row, type Row, type StageOutput } from '../lib/report.ts';
import { nowMs, round, summarize } from '../lib/stats.ts';

/** `concurrency` loops each running `step` until `durationMs` is over; returns each step's time and the elapsed ms. */
async function closedLoops(concurrency: number, durationMs: number, step: () => Promise<boolean>) {
  const latencies: number[] = [];
  let errors = 0;
  const started = nowMs();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (nowMs() < deadline) {
        const sent = nowMs();
        if (!(await step())) errors++;
        latencies.push(nowMs() - sent);
      }
    }),
  );
  return { latencies, errors, elapsed: nowMs() - started };
}

async function httpLoop(ctx: BenchContext, concurrency: number, durationMs: number) {
  const pool = new Pool(ctx.stack.receiverUrl, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  let seq = 0;
  const { latencies, errors, elapsed } = await closedLoops(concurrency, durationMs, async () => {
    try {
      const response = await pool.request({
        path: '/hook',
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'hookd-bench',
          'webhook-id': randomUUID(),
          'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
          'webhook-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
        },
        body: JSON.stringify({ tag: 'ceiling', sentAt: nowMs(), seq: seq++ }),
      });
      await response.body.text();
      return response.statusCode === 200;
    } catch {
      return false;
    }
  });
  await pool.close();
  return { concurrency, durationMs: round(elapsed), requests: latencies.length, errors, perSecond: round((latencies.length * 1000) / elapsed), latency: summarize(latencies) };
}

/** One attempt recorded as a naive worker would: INSERT and UPDATE in a transaction of their own. */
async function recordNaively(
  pool: pg.Pool,
  { eventId, subscriptionId, attemptNumber, headers }: { eventId: string; subscriptionId: string; attemptNumber: number; headers: string },
): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO "DeliveryAttempt" (id, "eventId", "subscriptionId", "attemptNumber", "attemptedAt", "durationMs", success, "responseStatus", "responseBody", "requestHeaders")
       VALUES ($1, $2, $3, $4, now(), 2, true, 200, 'ok', $5)`,
      [randomUUID(), eventId, subscriptionId, attemptNumber, headers],
    );
    await client.query(
      `UPDATE "Event" SET "attemptCount" = $2, status = 'DELIVERED', "deliveredAt" = now(), "nextAttemptAt" = NULL, "updatedAt" = now() WHERE id = $1`,
      [eventId, attemptNumber],
    );
    await client.query('COMMIT');
    return true;
  } catch {
    await client.query('ROLLBACK').catch(() => {});
    return false;
  } finally {
    client.release();
  }
}

/** Rows under a PAUSED subscription of their own (nothing of hookd's touches them); removed by the caller. */
async function scratchEvents(ctx: BenchContext, count: number): Promise<{ subscriptionId: string; eventIds: string[] }> {
  const subscriptionId = randomUUID();
  await ctx.stack.sql.query(
    `INSERT INTO "WebhookSubscription" (id, name, "targetUrl", secret, status, "updatedAt") VALUES ($1, 'bench-ceiling', $2, 'whsec_YmVuY2htYXJrYmVuY2htYXJrYmVuY2htYXJr', 'PAUSED', now())`,
    [subscriptionId, `${ctx.stack.receiverUrl}/ceiling`],
  );
  const { rows } = await ctx.stack.sql.query<{ id: string }>(
    `INSERT INTO "Event" (id, "subscriptionId", "eventType", payload, status, "nextAttemptAt", "updatedAt")
     SELECT gen_random_uuid(), $1, 'bench.ceiling', jsonb_build_object('n', g), 'DELIVERED', NULL, now() FROM generate_series(1, $2) g RETURNING id`,
    [subscriptionId, count],
  );
  return { subscriptionId, eventIds: rows.map((r) => r.id) };
}

/**
 * The naive half-job: Bee-Queue jobs (pre-filled, one per delivery) taken by a worker in this
 * process at the worker's concurrency; each POSTs to the receiver, records its two rows in a
 * transaction of its own and publishes the attempt on Redis.
 */
async function naivePipeline(ctx: BenchContext, concurrency: number, durationMs: number, httpPerSecond: number) {
  const { eventIds, subscriptionId } = await scratchEvents(ctx, 5_000);
  const prefix = `${ctx.stack.queuePrefix}-ceiling`;
  const queue = new BeeQueue<{ eventId: string; attemptNumber: number }>('naive', {
    prefix,
    redis: { url: REDIS_URL },
    getEvents: false,
    sendEvents: false,
    removeOnSuccess: true,
    removeOnFailure: true,
    activateDelayedJobs: false,
  });
  await queue.ready();
  // More jobs than it can take in the window (judged by the HTTP ceiling), so it never runs dry.
  const jobs = Math.round(httpPerSecond * (durationMs / 1000) * 0.5);
  for (let start = 0; start < jobs; start += 1_000) {
    await queue.saveAll(
      Array.from({ length: Math.min(1_000, jobs - start) }, (_, index) => {
        const n = start + index;
        return queue.createJob({ eventId: eventIds[n % eventIds.length]!, attemptNumber: Math.floor(n / eventIds.length) + 1 });
      }),
    );
  }
  const pool = new pg.Pool({ connectionString: ctx.stack.databaseUrl, max: Math.min(concurrency, 20) });
  const http = new Pool(ctx.stack.receiverUrl, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const publisher = new Redis(REDIS_URL);
  const headers = JSON.stringify({ 'content-type': 'application/json', 'webhook-id': randomUUID() });
  let done = 0;
  let errors = 0;
  const started = nowMs();
  queue.process(concurrency, async (job) => {
    const response = await http.request({ path: '/ceiling', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tag: 'naive', seq: done }) });
    await response.body.text();
    const recorded = await recordNaively(pool, { eventId: job.data.eventId, subscriptionId, attemptNumber: job.data.attemptNumber, headers });
    await publisher.publish(`${prefix}:attempt-recorded`, JSON.stringify({ eventId: job.data.eventId, attemptNumber: job.data.attemptNumber, success: true }));
    if (recorded) done++;
    else errors++;
  });
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  const counted = done;
  const elapsed = nowMs() - started;
  await queue.close(5_000).catch(() => {});
  await Promise.all([pool.end(), http.close(), publisher.quit(), deleteRedisKeys(prefix)]);
  await ctx.stack.sql.query(`DELETE FROM "WebhookSubscription" WHERE id = $1`, [subscriptionId]);
  return { concurrency, durationMs: round(elapsed), deliveries: counted, errors, jobsQueued: jobs, perSecond: round((counted * 1000) / elapsed) };
}

async function databaseLoop(ctx: BenchContext, concurrency: number, durationMs: number) {
  const { sql } = ctx.stack;
  const { subscriptionId, eventIds } = await scratchEvents(ctx, 5_000);
  // The worker's pool size (min(WORKER_CONCURRENCY, 20)).
  const pool = new pg.Pool({ connectionString: ctx.stack.databaseUrl, max: Math.min(concurrency, 20) });
  const headers = JSON.stringify({ 'content-type': 'application/json', 'user-agent': 'hookd/0.1.0', 'webhook-id': randomUUID(), 'webhook-timestamp': '1700000000', 'webhook-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' });
  let next = 0;
  const { latencies, errors, elapsed } = await closedLoops(concurrency, durationMs, () => {
    const n = next++;
    const eventId = eventIds[n % eventIds.length]!;
    return recordNaively(pool, { eventId, subscriptionId, attemptNumber: Math.floor(n / eventIds.length) + 1, headers });
  });
  await pool.end();
  await sql.query(`DELETE FROM "WebhookSubscription" WHERE id = $1`, [subscriptionId]);
  return {
    concurrency,
    poolSize: Math.min(concurrency, 20),
    durationMs: round(elapsed),
    deliveries: latencies.length,
    errors,
    perSecond: round((latencies.length * 1000) / elapsed),
    latency: summarize(latencies),
  };
}

/**
 * The machine's limits, not hookd's: its event-count triggers (one per statement on Event)
 * would cost these one-row-per-commit loops far more than hookd's batched statements.
 */
async function withoutEventTriggers<T>(ctx: BenchContext, measure: () => Promise<T>): Promise<T> {
  await ctx.stack.sql.query('ALTER TABLE "Event" DISABLE TRIGGER USER');
  try {
    return await measure();
  } finally {
    await ctx.stack.sql.query('ALTER TABLE "Event" ENABLE TRIGGER USER');
  }
}

export async function ceilingStage(ctx: BenchContext): Promise<StageOutput> {
  const concurrency = ctx.stack.workerConcurrency;
  const durationMs = ctx.ms(10_000, 1_500);
  const http = await httpLoop(ctx, concurrency, durationMs);
  ctx.log(`ceiling: http ${http.perSecond}/s`);
  const { database, naive } = await withoutEventTriggers(ctx, async () => {
    const database = await databaseLoop(ctx, concurrency, durationMs);
    ctx.log(`ceiling: database ${database.perSecond}/s`);
    const naive = await naivePipeline(ctx, concurrency, durationMs, http.perSecond);
    ctx.log(`ceiling: naive dequeue-POST-record-publish ${naive.perSecond}/s`);
    return { database, naive };
  });
  const lower = Math.min(http.perSecond, database.perSecond);
  return {
    result: { http, database, naive, lower },
    rows: [
      row('1 ceiling', `undici POST loop (concurrency ${concurrency})`, http.perSecond, 'req/s'),
      row('1 ceiling', 'INSERT+UPDATE loop (one commit each)', database.perSecond, 'tx/s'),
      row('1 ceiling', 'naive dequeue, POST, record, publish (no ingest)', naive.perSecond, 'deliveries/s'),
    ],
  };
}

/**
 * The naive half-job once more, later in the run. This machine's speed drifts (its naive
 * half-job has measured from about 640 to 2,700/s, and by 2× within an hour), and the verdicts
 * at half the top rate mean what they say only if the machine ran then about as fast as when
 * the top rate was found: the ratio to the first measurement says whether it did.
 */
export async function naiveAgain(ctx: BenchContext, after: string): Promise<{ result: Record<string, unknown>; row: Row }> {
  const first = ctx.results.ceiling as { http: { perSecond: number }; naive: { perSecond: number } };
  const naive = await withoutEventTriggers(ctx, () => naivePipeline(ctx, ctx.stack.workerConcurrency, ctx.ms(10_000, 1_500), first.http.perSecond));
  const ratio = round(naive.perSecond / first.naive.perSecond, 2);
  ctx.log(`ceiling: naive half-job again, after ${after}: ${naive.perSecond}/s, ${ratio}× the first`);
  return {
    result: { ...naive, after, ratioToFirst: ratio },
    row: row('1 ceiling', `the same again, after stage ${after} (the machine's drift)`, naive.perSecond, `deliveries/s, ${ratio}× the first`),
  };
}
