// The 24 h stats read hours from DeliveryHour (folded by the worker from the per-minute rollups,
// up to a few minutes ago) and the rest from DeliveryMinute. Checked against the minutes alone: the same
// figures before any fold, after it, and with minutes added after it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { createServices, type Services } from '../../core/services.ts';
import { foldHourlyRollups, statsBySubscription } from '../../core/stats.ts';
import { histogramQuantile } from '../../core/duration-histogram.ts';
import { deleteExpiredRollups } from '../../worker/maintenance.ts';
import { createSubscription, gqlData, stack } from '../helpers/api.ts';
import { sql } from '../helpers/db.ts';

let services: Services;
beforeAll(() => {
  services = createServices(loadConfig(stack().env), 'test');
});
afterAll(async () => {
  await services.close();
});

/**
 * Seeded rollups only: a type filter no event has, so that no other file's publishEvent fans out
 * to it and records a real attempt into the figures compared here.
 */
const SEEDED_ONLY = { targetUrl: 'http://127.0.0.1:9/never-called', eventTypes: ['hourly-rollups.seeded-only'] };

const STATS = `query($id: ID!, $hours: Int!) { webhookSubscription(id: $id) { stats(hours: $hours) { attempts succeeded failed p50DurationMs p95DurationMs } } }`;

async function apiStats(id: string, hours: number) {
  return (await gqlData(STATS, { id, hours })).webhookSubscription.stats;
}

/** The same aggregate from the minutes alone (what the API answered before hourly rollups). */
async function minuteStats(id: string, hours: number) {
  const [row] = await sql<{ attempts: number; succeeded: number }>(
    `SELECT coalesce(sum(attempts), 0)::int AS attempts, coalesce(sum(succeeded), 0)::int AS succeeded FROM "DeliveryMinute"
     WHERE "subscriptionId" = $1 AND minute >= date_trunc('minute', now() - make_interval(hours => $2))`,
    [id, hours],
  );
  return row!;
}

/** One minute row every 7 minutes over the last `hours` + 2, with growing counts and a histogram. */
async function seedMinutes(id: string, hours: number, fromMinute = 0) {
  await sql(
    `INSERT INTO "DeliveryMinute" ("subscriptionId", minute, attempts, succeeded, "durationHistogram")
     SELECT $1, date_trunc('minute', now()) - make_interval(mins => g), 3 + g % 5, 2 + g % 3, array_fill(g % 4, ARRAY[25])
     FROM generate_series($2::int, ($3::int + 2) * 60, 7) g
     ON CONFLICT DO NOTHING`,
    [id, fromMinute, hours],
  );
}

describe('hourly rollups', () => {
  it('give the same 1 h, 24 h and 30 h stats as the minutes alone, before and after folding, and count minutes added since', async () => {
    const subscription = await createSubscription(SEEDED_ONLY);
    await seedMinutes(subscription.id, 30);
    const expected = await Promise.all([1, 24, 30].map((hours) => minuteStats(subscription.id, hours)));
    expect(expected[1]!.attempts).toBeGreaterThan(expected[0]!.attempts);

    const check = async () => {
      for (const [index, hours] of [1, 24, 30].entries()) {
        const stats = await apiStats(subscription.id, hours);
        expect(stats.attempts, `${hours} h`).toBe(expected[index]!.attempts);
        expect(stats.succeeded, `${hours} h`).toBe(expected[index]!.succeeded);
      }
    };
    // With no fold on record (as before the worker's first), every figure comes from minutes.
    await sql(`DELETE FROM "DeliveryHourFold"`);
    await check();
    const before24 = await apiStats(subscription.id, 24);

    // Minutes written into the past (this seed, a backfill) need a fold of every hour.
    expect(await foldHourlyRollups(services.db, { all: true })).toBeGreaterThan(0);
    const [hours] = await sql<{ rows: number }>(`SELECT count(*)::int AS rows FROM "DeliveryHour" WHERE "subscriptionId" = $1`, [subscription.id]);
    expect(hours!.rows).toBeGreaterThanOrEqual(24);
    await check();
    // The percentiles come from the same histogram sums either way.
    expect(await apiStats(subscription.id, 24)).toEqual(before24);

    // Folding again changes nothing (an hour is recomputed, not added to), nor do folds at once
    // (they take turns, each folding after the one before).
    await foldHourlyRollups(services.db);
    await foldHourlyRollups(services.db, { all: true });
    await check();
    const together = await Promise.all([1, 2, 3].map(() => foldHourlyRollups(services.db)));
    expect(together.every((hours) => hours > 0)).toBe(true);
    await check();

    // Folded up to 6 minutes ago, to the minute: the hour in progress too, so readers add only
    // the minutes since.
    const [mark] = await sql<{ foldedUntil: Date; lagSeconds: number }>(
      `SELECT "foldedUntil", extract(epoch FROM now() - "foldedUntil")::float8 AS "lagSeconds" FROM "DeliveryHourFold"`,
    );
    expect(mark!.foldedUntil.getTime() % 60_000).toBe(0);
    expect(mark!.lagSeconds).toBeGreaterThanOrEqual(6 * 60 - 1);
    expect(mark!.lagSeconds).toBeLessThan(8 * 60);
    const [coverage] = await sql<{ folded: number; expected: number }>(
      `SELECT (SELECT count(*)::int FROM "DeliveryHour" WHERE "subscriptionId" = $1) AS folded,
              (SELECT count(DISTINCT date_trunc('hour', minute))::int FROM "DeliveryMinute" WHERE "subscriptionId" = $1 AND minute < $2) AS expected`,
      [subscription.id, mark!.foldedUntil],
    );
    expect(coverage!.folded).toBe(coverage!.expected);

    // Minutes recorded after the fold, in the current hour, count at once.
    await sql(
      `UPDATE "DeliveryMinute" SET attempts = attempts + 10, succeeded = succeeded + 10
       WHERE "subscriptionId" = $1 AND minute = (SELECT max(minute) FROM "DeliveryMinute" WHERE "subscriptionId" = $1)`,
      [subscription.id],
    );
    const after = await apiStats(subscription.id, 24);
    expect(after.attempts).toBe(expected[1]!.attempts + 10);
    expect(after.succeeded).toBe(expected[1]!.succeeded + 10);
  });

  it('read the window\'s partial first hour as its minutes, or as its hour row minus the minutes before the window, with the same figures', async () => {
    const subscription = await createSubscription(SEEDED_ONLY);
    await seedMinutes(subscription.id, 30);
    await foldHourlyRollups(services.db, { all: true });
    const [hour] = await sql<{ at: Date }>(`SELECT date_trunc('hour', now() - interval '2 hours') AS at`);
    /** The 24 h before `asOf` (and whatever came after it) from the minutes alone. */
    const fromMinutes = async (asOf: Date) => {
      const [row] = await sql<{ attempts: number; succeeded: number; histogram: number[] }>(
        `WITH m AS (
           SELECT * FROM "DeliveryMinute" WHERE "subscriptionId" = $1 AND minute >= date_trunc('minute', $2::timestamptz - interval '24 hours')
         )
         SELECT (SELECT sum(attempts)::int FROM m) AS attempts, (SELECT sum(succeeded)::int FROM m) AS succeeded,
                ARRAY(SELECT sum(count)::int FROM m, unnest(m."durationHistogram") WITH ORDINALITY AS u(count, bucket) GROUP BY bucket ORDER BY bucket) AS histogram`,
        [subscription.id, asOf],
      );
      return {
        attempts: row!.attempts,
        succeeded: row!.succeeded,
        failed: row!.attempts - row!.succeeded,
        successRate: row!.succeeded / row!.attempts,
        p50DurationMs: histogramQuantile(row!.histogram, 0.5),
        p95DurationMs: histogramQuantile(row!.histogram, 0.95),
      };
    };
    const windows = [0, 10, 29, 30, 45].map((minutes) => new Date(hour!.at.getTime() + minutes * 60_000));
    const statsAsOf = async (asOf: Date) => (await statsBySubscription(services.db, [subscription.id], 24, asOf)).get(subscription.id)!;
    for (const asOf of windows) expect(await statsAsOf(asOf), asOf.toISOString()).toEqual(await fromMinutes(asOf));

    // Which way each window went: a wrong figure in the first hour's row shows in the window
    // that holds all of that hour, and in those that began less than half an hour into it.
    const before = await Promise.all(windows.map(statsAsOf));
    await sql(`UPDATE "DeliveryHour" SET attempts = attempts + 1000 WHERE "subscriptionId" = $1 AND hour = $2::timestamptz - interval '1 day'`, [
      subscription.id,
      hour!.at,
    ]);
    const after = await Promise.all(windows.map(statsAsOf));
    expect(after.map((stats, index) => stats.attempts - before[index]!.attempts)).toEqual([1000, 1000, 1000, 0, 0]);
  });

  it('keep, past retention, the minutes the 30-day window subtracts from its first hour', async () => {
    const subscription = await createSubscription(SEEDED_ONLY);
    await sql(
      `INSERT INTO "DeliveryMinute" ("subscriptionId", minute, attempts, succeeded, "durationHistogram")
       SELECT $1, date_trunc('minute', now()) - make_interval(mins => g), 2, 1, array_fill(1, ARRAY[25]) FROM generate_series(718 * 60, 722 * 60) g`,
      [subscription.id],
    );
    await foldHourlyRollups(services.db, { all: true });
    // A window that starts less than half an hour into an hour (up to 10 minutes), ending in the last hour.
    const [row] = await sql<{ asOf: Date; attempts: number }>(
      `WITH w AS (SELECT least(now(), date_trunc('hour', now()) + interval '10 minutes') AS "asOf")
       SELECT "asOf", (SELECT sum(attempts)::int FROM "DeliveryMinute" WHERE "subscriptionId" = $1 AND minute >= date_trunc('minute', "asOf" - interval '720 hours')) AS attempts
       FROM w`,
      [subscription.id],
    );
    await deleteExpiredRollups(services);
    const stats = (await statsBySubscription(services.db, [subscription.id], 720, row!.asOf)).get(subscription.id)!;
    expect(stats.attempts).toBe(row!.attempts);
    expect(stats.succeeded).toBe(row!.attempts / 2);
  });

  it('answers the all-subscriptions overview from the same rollups', async () => {
    await foldHourlyRollups(services.db, { all: true });
    const [row] = await sql<{ attempts: number }>(
      `SELECT coalesce(sum(attempts), 0)::int AS attempts FROM "DeliveryMinute" WHERE minute >= date_trunc('minute', now() - interval '24 hours')`,
    );
    const overview = (await gqlData(`query { deliveryStats(hours: 24) { attempts } }`)).deliveryStats;
    // Other test files record attempts meanwhile: at least the minutes counted just before.
    expect(overview.attempts).toBeGreaterThanOrEqual(row!.attempts);
    const [again] = await sql<{ attempts: number }>(
      `SELECT coalesce(sum(attempts), 0)::int AS attempts FROM "DeliveryMinute" WHERE minute >= date_trunc('minute', now() - interval '24 hours')`,
    );
    expect(overview.attempts).toBeLessThanOrEqual(again!.attempts);
  });
});
