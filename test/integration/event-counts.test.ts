// A subscription's event counts come from EventCount plus the deltas that triggers on Event
// append (migration event_counts); the worker folds the deltas. Checked here against counting
// the events themselves, through every kind of change: ingest, delivery, retries, filtering,
// direct SQL updates and deletes, and the deletion of a subscription.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSubscription, gqlData, ingest, waitForEventStatus } from '../helpers/api.ts';
import { sql } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait.ts';
import { TestReceiver } from '../helpers/receiver.ts';

const receiver = TestReceiver.forFile();

async function apiCounts(subscriptionId: string): Promise<Record<string, number>> {
  const data = await gqlData(`query($id: ID!) { webhookSubscription(id: $id) { eventCounts { status count } } }`, { id: subscriptionId });
  return Object.fromEntries(
    (data.webhookSubscription.eventCounts as { status: string; count: number }[]).filter((row) => row.count !== 0).map((row) => [row.status, row.count]),
  );
}

async function actualCounts(subscriptionId: string): Promise<Record<string, number>> {
  const rows = await sql<{ status: string; count: number }>(
    `SELECT status::text AS status, count(*)::int AS count FROM "Event" WHERE "subscriptionId" = $1 GROUP BY 1`,
    [subscriptionId],
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.count]));
}

async function pendingDeltas(subscriptionId: string): Promise<number> {
  const [row] = await sql<{ count: number }>(`SELECT count(*)::int AS count FROM "EventCountDelta" WHERE "subscriptionId" = $1`, [subscriptionId]);
  return row!.count;
}

describe('event counts', () => {
  it('match the events through ingest, delivery, filtering, SQL changes and deletes, before and after the worker folds them', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/counted`, eventTypes: ['order.*'] });
    const delivered = await Promise.all([1, 2, 3].map((n) => ingest({ subscriptionId: subscription.id, eventType: 'order.created', payload: { n } })));
    await ingest({ subscriptionId: subscription.id, eventType: 'user.created', payload: {} });
    for (const event of delivered) await waitForEventStatus(event.id, 'DELIVERED');
    expect(await apiCounts(subscription.id)).toEqual({ DELIVERED: 3, FILTERED: 1 });

    // Changes made outside hookd's code paths are counted too: the triggers see every statement.
    const extra = randomUUID();
    await sql(
      `INSERT INTO "Event" (id, "subscriptionId", payload, status, "updatedAt") VALUES ($1, $2, '{}', 'FAILED', now())`,
      [extra, subscription.id],
    );
    await sql(`UPDATE "Event" SET status = 'FAILED' WHERE id = $1`, [delivered[0].id]);
    await sql(`UPDATE "Event" SET "updatedAt" = now() WHERE "subscriptionId" = $1`, [subscription.id]);
    await sql(`DELETE FROM "Event" WHERE id = $1`, [delivered[1].id]);
    expect(await apiCounts(subscription.id)).toEqual(await actualCounts(subscription.id));
    expect(await apiCounts(subscription.id)).toEqual({ DELIVERED: 1, FAILED: 2, FILTERED: 1 });

    // The worker folds the deltas away; the counts stay the same.
    await waitFor(async () => (await pendingDeltas(subscription.id)) === 0, { timeoutMs: 15_000, what: 'the deltas folded' });
    const [folded] = await sql<{ rows: number }>(`SELECT count(*)::int AS rows FROM "EventCount" WHERE "subscriptionId" = $1`, [subscription.id]);
    expect(folded!.rows).toBeGreaterThan(0);
    expect(await apiCounts(subscription.id)).toEqual({ DELIVERED: 1, FAILED: 2, FILTERED: 1 });
  });

  it('leaves nothing behind when a subscription is deleted', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/deleted` });
    const event = await ingest({ subscriptionId: subscription.id, payload: {} });
    await waitForEventStatus(event.id, 'DELIVERED');
    await gqlData(`mutation($id: ID!) { deleteWebhookSubscription(id: $id) { __typename } }`, { id: subscription.id });
    await waitFor(async () => (await pendingDeltas(subscription.id)) === 0, { timeoutMs: 15_000, what: 'the deltas of the deleted subscription dropped' });
    const [left] = await sql<{ rows: number }>(`SELECT count(*)::int AS rows FROM "EventCount" WHERE "subscriptionId" = $1`, [subscription.id]);
    expect(left!.rows).toBe(0);
  });

  it('the folded logs keep their emptied pages, so that VACUUM takes no lock that would hold up their writers', async () => {
    // Cutting emptied pages off a table takes an ACCESS EXCLUSIVE lock: every 2 s it held up
    // each statement whose trigger appends to these logs (ingest, claims, records).
    const rows = await sql<{ relname: string; reloptions: string[] | null }>(
      `SELECT relname, reloptions FROM pg_class WHERE relname IN ('EventCountDelta', 'DeliveryTotalDelta') ORDER BY relname`,
    );
    expect(rows.map((row) => [row.relname, row.reloptions])).toEqual([
      ['DeliveryTotalDelta', ['vacuum_truncate=false']],
      ['EventCountDelta', ['vacuum_truncate=false']],
    ]);
  });
});
