// Stage 1, the ceilings of this machine, measured in the same run: a plain undici POST loop to
// the same receiver with the worker's concurrency, and a loop doing only what a delivery must
// record in PostgreSQL (one INSERT and one UPDATE, in a transaction).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Pool } from 'undici';
import type { BenchContext } from '../lib/context.ts';
import { row, type StageOutput } from '../lib/report.ts';
import { nowMs, round, summarize } from '../lib/stats.ts';

async function httpLoop(ctx: BenchContext, concurrency: number, durationMs: number) {
  const pool = new Pool(ctx.stack.receiverUrl, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const latencies: number[] = [];
  let errors = 0;
  const started = nowMs();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (nowMs() < deadline) {
        const sent = nowMs();
        const body = JSON.stringify({ tag: 'ceiling', sentAt: sent, seq: latencies.length });
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
            body,
          });
          await response.body.text();
          if (response.statusCode !== 200) errors++;
        } catch {
          errors++;
        }
        latencies.push(nowMs() - sent);
      }
    }),
  );
  const elapsed = nowMs() - started;
  await pool.close();
  return { concurrency, durationMs: round(elapsed), requests: latencies.length, errors, perSecond: round((latencies.length * 1000) / elapsed), latency: summarize(latencies) };
}

async function databaseLoop(ctx: BenchContext, concurrency: number, durationMs: number) {
  const { sql } = ctx.stack;
  // Rows to update, under a subscription of their own, removed afterwards.
  const subscriptionId = randomUUID();
  const rowsToUse = 5_000;
  await sql.query(
    `INSERT INTO "WebhookSubscription" (id, name, "targetUrl", secret, status, "updatedAt") VALUES ($1, 'bench-ceiling', $2, 'whsec_YmVuY2htYXJrYmVuY2htYXJrYmVuY2htYXJr', 'PAUSED', now())`,
    [subscriptionId, `${ctx.stack.receiverUrl}/ceiling`],
  );
  const { rows } = await sql.query<{ id: string }>(
    `INSERT INTO "Event" (id, "subscriptionId", "eventType", payload, status, "nextAttemptAt", "updatedAt")
     SELECT gen_random_uuid(), $1, 'bench.ceiling', jsonb_build_object('n', g), 'DELIVERED', NULL, now() FROM generate_series(1, $2) g RETURNING id`,
    [subscriptionId, rowsToUse],
  );
  const eventIds = rows.map((r) => r.id);
  // The worker's pool size (min(WORKER_CONCURRENCY, 20)).
  const pool = new pg.Pool({ connectionString: ctx.stack.databaseUrl, max: Math.min(concurrency, 20) });
  const headers = JSON.stringify({ 'content-type': 'application/json', 'user-agent': 'hookd/0.1.0', 'webhook-id': randomUUID(), 'webhook-timestamp': '1700000000', 'webhook-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' });
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = nowMs();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (nowMs() < deadline) {
        const n = next++;
        const eventId = eventIds[n % eventIds.length]!;
        const attemptNumber = Math.floor(n / eventIds.length) + 1;
        const sent = nowMs();
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
        } catch {
          errors++;
          await client.query('ROLLBACK').catch(() => {});
        } finally {
          client.release();
        }
        latencies.push(nowMs() - sent);
      }
    }),
  );
  const elapsed = nowMs() - started;
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

export async function ceilingStage(ctx: BenchContext): Promise<StageOutput> {
  const concurrency = ctx.stack.workerConcurrency;
  const durationMs = ctx.ms(10_000, 1_500);
  const http = await httpLoop(ctx, concurrency, durationMs);
  ctx.log(`ceiling: http ${http.perSecond}/s`);
  const database = await databaseLoop(ctx, concurrency, durationMs);
  ctx.log(`ceiling: database ${database.perSecond}/s`);
  const lower = Math.min(http.perSecond, database.perSecond);
  return {
    result: { http, database, lower },
    rows: [
      row('1 ceiling', `undici POST loop (concurrency ${concurrency})`, http.perSecond, 'req/s'),
      row('1 ceiling', 'INSERT+UPDATE loop', database.perSecond, 'tx/s'),
    ],
  };
}
