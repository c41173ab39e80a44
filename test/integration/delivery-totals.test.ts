// The all-subscriptions stats and timeline read the delivery totals (migration
// 20261129120000_delivery_totals): kept by triggers on DeliveryMinute, folded by the worker.
// Checked against DeliveryMinute itself, before and after folds, with changes made as the
// worker makes them (an upsert that adds), by hand, and by deleting a subscription.
// A database of its own, so that no other test's attempts move the figures.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../core/db.ts';
import { histogramQuantile } from '../../core/duration-histogram.ts';
import { deliveryStats, deliveryTimeline, foldDeliveryTotals } from '../../core/stats.ts';
import { createTestDatabase, dropTestDatabase } from '../helpers/stack.ts';

const name = `hookd_delivery_totals_${process.pid}`;
let db: Database;

beforeAll(async () => {
  db = createDatabase(await createTestDatabase(name), 2);
});

afterAll(async () => {
  await db?.$disconnect();
  await dropTestDatabase(name);
});

async function sql<T = unknown>(text: string, ...values: unknown[]): Promise<T[]> {
  return db.$queryRawUnsafe<T[]>(text, ...values);
}

async function createSubscription(): Promise<string> {
  const id = randomUUID();
  await sql(
    `INSERT INTO "WebhookSubscription" (id, name, "targetUrl", secret, "createdAt", "updatedAt")
     VALUES ($1::uuid, 'totals', 'https://example.com/totals', 'whsec_dG90YWxzdG90YWxzdG90YWxzdG90YWxz', now(), now())`,
    id,
  );
  return id;
}

/** A minute row every `step` minutes over the last `hours` + 2, counts and histograms varying with the minute. */
async function seedMinutes(subscriptionId: string, hours: number, step: number, offset: number) {
  await sql(
    `INSERT INTO "DeliveryMinute" ("subscriptionId", minute, attempts, succeeded, "durationHistogram")
     SELECT $1::uuid, date_trunc('minute', now()) - make_interval(mins => g), 3 + (g + $4::int) % 5, 2 + g % 3,
            ARRAY(SELECT (g + $4::int + b) % 4 FROM generate_series(1, 25) b)
     FROM generate_series(0, ($2::int + 2) * 60, $3::int) g`,
    subscriptionId,
    hours,
    step,
    offset,
  );
}

/** What the stats must be: the window's minutes of every subscription, added up in SQL. */
async function expectedStats(hours: number) {
  const [row] = await sql<{ attempts: number; succeeded: number; histogram: number[] }>(
    `SELECT coalesce(sum(attempts), 0)::int AS attempts, coalesce(sum(succeeded), 0)::int AS succeeded,
            ARRAY(SELECT coalesce(sum(h), 0)::int FROM "DeliveryMinute" m2, unnest(m2."durationHistogram") WITH ORDINALITY AS x(h, i)
                  WHERE m2.minute >= date_trunc('minute', now() - make_interval(hours => $1::int)) GROUP BY i ORDER BY i) AS histogram
     FROM "DeliveryMinute" WHERE minute >= date_trunc('minute', now() - make_interval(hours => $1::int))`,
    hours,
  );
  return {
    attempts: row!.attempts,
    succeeded: row!.succeeded,
    failed: row!.attempts - row!.succeeded,
    successRate: row!.attempts === 0 ? null : row!.succeeded / row!.attempts,
    p50DurationMs: row!.attempts === 0 ? null : histogramQuantile(row!.histogram, 0.5),
    p95DurationMs: row!.attempts === 0 ? null : histogramQuantile(row!.histogram, 0.95),
  };
}

async function expectedTimeline(minutes: number) {
  const rows = await sql<{ minute: Date; attempts: number; succeeded: number }>(
    `SELECT minute, sum(attempts)::int AS attempts, sum(succeeded)::int AS succeeded FROM "DeliveryMinute"
     WHERE minute >= date_trunc('minute', now()) - make_interval(mins => $1::int - 1) GROUP BY minute`,
    minutes,
  );
  return new Map(rows.map((row) => [row.minute.toISOString(), { succeeded: row.succeeded, failed: row.attempts - row.succeeded }]));
}

async function logged(): Promise<number> {
  const [row] = await sql<{ rows: number }>(`SELECT count(*)::int AS rows FROM "DeliveryTotalDelta"`);
  return row!.rows;
}

/** The API's figures equal DeliveryMinute's, for windows of 1, 24 and 30 hours and a 90-minute timeline. */
async function checkAgainstMinutes() {
  for (const hours of [1, 24, 30]) {
    expect(await deliveryStats(db, null, hours), `${hours} h`).toEqual(await expectedStats(hours));
  }
  const timeline = await deliveryTimeline(db, null, 90);
  expect(timeline).toHaveLength(90);
  const expected = await expectedTimeline(90);
  for (const bucket of timeline) {
    expect({ succeeded: bucket.succeeded, failed: bucket.failed }, bucket.minute.toISOString()).toEqual(
      expected.get(bucket.minute.toISOString()) ?? { succeeded: 0, failed: 0 },
    );
  }
}

describe('delivery totals of all subscriptions', () => {
  it('match the subscriptions minutes at every step: logged, folded, changed as the worker and by hand, and deleted', async () => {
    expect(await deliveryStats(db, null, 24)).toMatchObject({ attempts: 0, successRate: null });
    const [first, second, third] = [await createSubscription(), await createSubscription(), await createSubscription()];
    await seedMinutes(first, 30, 7, 0);
    await seedMinutes(second, 30, 11, 1);
    await seedMinutes(third, 2, 1, 2);
    expect((await expectedStats(24)).attempts).toBeGreaterThan(0);

    // Before any fold: the figures come from the log.
    expect(await logged()).toBeGreaterThan(0);
    await checkAgainstMinutes();

    // Folded: the log is empty and the figures are the same.
    expect(await foldDeliveryTotals(db)).toBeGreaterThan(0);
    expect(await logged()).toBe(0);
    await checkAgainstMinutes();
    expect(await foldDeliveryTotals(db)).toBe(0);
    await checkAgainstMinutes();

    // As the worker records attempts: an upsert adding to a minute that exists, and a new one.
    await sql(
      `INSERT INTO "DeliveryMinute" AS m ("subscriptionId", minute, attempts, succeeded, "durationHistogram")
       VALUES ($1::uuid, date_trunc('minute', now()), 4, 1, array_fill(1, ARRAY[25])),
              ($2::uuid, date_trunc('minute', now()) - interval '3 minutes', 2, 2, array_fill(2, ARRAY[25]))
       ON CONFLICT ("subscriptionId", minute) DO UPDATE SET attempts = m.attempts + excluded.attempts,
         succeeded = m.succeeded + excluded.succeeded,
         "durationHistogram" = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0)
           FROM unnest(m."durationHistogram", excluded."durationHistogram") WITH ORDINALITY AS t(a, b, i) ORDER BY i)`,
      third,
      first,
    );
    // A statement logs one row per minute it changed, however many subscriptions' minutes that
    // were (migration 20261130120000_delivery_total_delta_per_statement): three subscriptions'
    // rows of this minute make one row (two if the minute turned since they were seeded, and
    // the upsert both inserted and updated: each part logs its own), where each subscription's
    // minute was a row of its own, two when updated.
    await foldDeliveryTotals(db);
    expect(await logged()).toBe(0);
    await sql(
      `INSERT INTO "DeliveryMinute" AS m ("subscriptionId", minute, attempts, succeeded, "durationHistogram")
       SELECT s, date_trunc('minute', now()), 1, 1, array_fill(1, ARRAY[25]) FROM unnest($1::uuid[]) AS s
       ON CONFLICT ("subscriptionId", minute) DO UPDATE SET attempts = m.attempts + excluded.attempts,
         succeeded = m.succeeded + excluded.succeeded,
         "durationHistogram" = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0)
           FROM unnest(m."durationHistogram", excluded."durationHistogram") WITH ORDINALITY AS t(a, b, i) ORDER BY i)`,
      [first, second, third],
    );
    const rows = await logged();
    expect(rows).toBeGreaterThanOrEqual(1);
    expect(rows).toBeLessThanOrEqual(2);
    await checkAgainstMinutes();
    // By hand, across minutes of two hours.
    await sql(`UPDATE "DeliveryMinute" SET attempts = attempts + 5, succeeded = succeeded + 5 WHERE "subscriptionId" = $1::uuid AND minute > now() - interval '5 hours'`, second);
    await checkAgainstMinutes();
    await foldDeliveryTotals(db);
    await checkAgainstMinutes();

    // A subscription deleted takes its minutes, and its share of the totals, with it.
    await sql(`DELETE FROM "WebhookSubscription" WHERE id = $1::uuid`, second);
    await checkAgainstMinutes();
    await foldDeliveryTotals(db);
    expect(await logged()).toBe(0);
    await checkAgainstMinutes();
  });

  it('read a few rows however many subscriptions there are', async () => {
    // 200 subscriptions with 70 minutes each: the totals hold one row per minute and hour.
    for (let i = 0; i < 200; i++) await seedMinutes(await createSubscription(), 0, 1, i);
    await foldDeliveryTotals(db);
    const [minutes] = await sql<{ rows: number }>(`SELECT count(*)::int AS rows FROM "DeliveryTotalMinute" WHERE minute >= now() - interval '24 hours'`);
    const [hours] = await sql<{ rows: number }>(`SELECT count(*)::int AS rows FROM "DeliveryTotalHour" WHERE hour >= now() - interval '25 hours'`);
    expect(minutes!.rows).toBeLessThanOrEqual(24 * 60 + 1);
    expect(hours!.rows).toBeLessThanOrEqual(26);
    const [perSubscription] = await sql<{ rows: number }>(`SELECT count(*)::int AS rows FROM "DeliveryMinute" WHERE minute >= now() - interval '24 hours'`);
    expect(perSubscription!.rows).toBeGreaterThan(10 * minutes!.rows);
    await checkAgainstMinutes();
  });
});
