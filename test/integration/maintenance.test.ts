// The worker's upkeep: PostgreSQL is the source of truth, so events Redis never had (or lost)
// are swept up; abandoned DELIVERING events are retried; old attempts are deleted.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { uuidv7 } from '../../core/ids.ts';
import { createServices, type Services } from '../../core/services.ts';
import { deleteExpiredAttempts } from '../../worker/maintenance.ts';
import { createSubscription, gqlData, ingest, stack, waitForEventStatus } from '../helpers/api.ts';
import { sql } from '../helpers/db.ts';
import { TestReceiver } from '../helpers/receiver.ts';

const receiver = TestReceiver.forFile();

describe('sweeper', () => {
  it('delivers a PENDING event that no job holds (as after Redis lost it)', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/swept` });
    const id = uuidv7();
    // Written straight to PostgreSQL, as if ingest committed and Redis then lost the job.
    await sql(
      `INSERT INTO "Event" (id, "subscriptionId", "eventType", payload, status, "nextAttemptAt", "updatedAt")
       VALUES ($1, $2, 'swept.up', '{"swept": true}', 'PENDING', now() - interval '5 seconds', now())`,
      [id, subscription.id],
    );
    const delivered = await waitForEventStatus(id, 'DELIVERED', 15_000);
    expect(delivered.attempts).toHaveLength(1);
    expect(receiver.requestsFor(id)).toHaveLength(1);
    expect(JSON.parse(receiver.requestsFor(id)[0]!.body)).toEqual({ swept: true });
  });

  it('retries an event left DELIVERING by a worker that died', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/stuck` });
    const id = uuidv7();
    await sql(
      `INSERT INTO "Event" (id, "subscriptionId", payload, status, "attemptCount", "updatedAt", "createdAt")
       VALUES ($1, $2, '{"stuck": true}', 'DELIVERING', 0, now() - interval '1 hour', now() - interval '1 hour')`,
      [id, subscription.id],
    );
    const delivered = await waitForEventStatus(id, 'DELIVERED', 20_000);
    expect(delivered.attempts.map((a: any) => a.attemptNumber)).toEqual([1]);
  });

  it('does not duplicate a delivery whose job is still queued', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/no-dup` });
    await gqlData(`mutation($id: ID!) { updateWebhookSubscription(id: $id, input: { status: PAUSED }) { __typename } }`, { id: subscription.id });
    const events = await Promise.all([1, 2, 3].map((n) => ingest({ subscriptionId: subscription.id, payload: { n } })));
    // Make them overdue, so the sweeper also enqueues them, then resume: one delivery each.
    await sql(`UPDATE "Event" SET "nextAttemptAt" = now() - interval '1 minute' WHERE "subscriptionId" = $1`, [subscription.id]);
    await gqlData(`mutation($id: ID!) { updateWebhookSubscription(id: $id, input: { status: ACTIVE }) { __typename } }`, { id: subscription.id });
    for (const event of events) await waitForEventStatus(event.id, 'DELIVERED');
    // Give a sweep the chance to run after delivery, then count.
    const sweepMs = Number.parseInt(stack().env.SWEEP_INTERVAL!, 10) * 1000;
    const control = await createSubscription({ targetUrl: `${receiver.url}/no-dup-control` });
    const sentinelId = uuidv7();
    await sql(
      `INSERT INTO "Event" (id, "subscriptionId", payload, status, "nextAttemptAt", "updatedAt") VALUES ($1, $2, '{}', 'PENDING', now() - interval '1 minute', now())`,
      [sentinelId, control.id],
    );
    await waitForEventStatus(sentinelId, 'DELIVERED', sweepMs * 10);
    for (const event of events) expect(receiver.requestsFor(event.id)).toHaveLength(1);
  });
});

describe('subscription cache', () => {
  it('forgets a deleted subscription at once', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/deleted` });
    await ingest({ subscriptionId: subscription.id, payload: {} }); // caches it
    await gqlData(`mutation($id: ID!) { deleteWebhookSubscription(id: $id) { __typename } }`, { id: subscription.id });
    const data = await gqlData(`mutation($id: ID!) { ingestEvent(input: { subscriptionId: $id, payload: {} }) { __typename } }`, { id: subscription.id });
    expect(data.ingestEvent.__typename).toBe('NotFoundError');
  });

  it('sees a change made straight in SQL at the next ingest (the INSERT checks the route version)', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/by-hand`, eventTypes: ['hand.*'] });
    expect((await ingest({ subscriptionId: subscription.id, eventType: 'hand.one', payload: {} })).status).toBe('PENDING'); // caches it
    const [{ routeVersion }] = await sql(`SELECT "routeVersion" FROM "WebhookSubscription" WHERE id = $1`, [subscription.id]);
    await sql(`UPDATE "WebhookSubscription" SET status = 'DISABLED' WHERE id = $1`, [subscription.id]);
    expect(await sql(`SELECT "routeVersion" FROM "WebhookSubscription" WHERE id = $1`, [subscription.id])).toEqual([{ routeVersion: routeVersion + 1 }]);
    expect((await ingest({ subscriptionId: subscription.id, eventType: 'hand.two', payload: {} })).status).toBe('FAILED');
    // A change to anything else leaves the version (and every server's cached route) as it was.
    await sql(`UPDATE "WebhookSubscription" SET name = 'renamed by hand' WHERE id = $1`, [subscription.id]);
    expect(await sql(`SELECT "routeVersion" FROM "WebhookSubscription" WHERE id = $1`, [subscription.id])).toEqual([{ routeVersion: routeVersion + 1 }]);
  });
});

describe('attempt retention', () => {
  let services: Services;
  beforeAll(() => {
    services = createServices(loadConfig({ ...stack().env, ATTEMPT_RETENTION: '1h' }), 'test');
  });
  afterAll(async () => {
    await services.close();
  });

  it('deletes attempts older than ATTEMPT_RETENTION and keeps the rest', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/retention` });
    const event = await ingest({ subscriptionId: subscription.id, payload: {} });
    await waitForEventStatus(event.id, 'DELIVERED');
    const old = randomUUID();
    await sql(
      `INSERT INTO "DeliveryAttempt" (id, "eventId", "subscriptionId", "attemptNumber", "attemptedAt", "durationMs", success)
       VALUES ($1, $2, $3, 99, now() - interval '2 hours', 5, false)`,
      [old, event.id, subscription.id],
    );
    const deleted = await deleteExpiredAttempts(services);
    expect(deleted).toBeGreaterThanOrEqual(1);
    const left = await sql(`SELECT id, "attemptNumber" FROM "DeliveryAttempt" WHERE "eventId" = $1`, [event.id]);
    expect(left.map((row) => row.attemptNumber)).toEqual([1]);
  });
});
