// A subscription over time: secret rotation with a grace period, auto-disable (410 Gone, or
// failing for AUTO_DISABLE_AFTER) published live, retention of finished events, and deletion.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { createServices, type Services } from '../../core/services.ts';
import { deleteWebhookSubscription } from '../../core/subscriptions.ts';
import { deleteExpiredEvents, disableFailingSubscriptions } from '../../worker/maintenance.ts';
import { createSubscription, getEvent, gqlData, ingest, stack, waitForEventStatus } from '../helpers/api.ts';
import { sql } from '../helpers/db.ts';
import { subscribeWs } from '../helpers/live.ts';
import { TestReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

const receiver = TestReceiver.forFile();
const ONLY_OURS = ['lifecycle.*'];

let services: Services;
beforeAll(() => {
  services = createServices(loadConfig({ ...stack().env, AUTO_DISABLE_AFTER: '1h', EVENT_RETENTION: '1h' }), 'test');
});
afterAll(async () => {
  await services.close();
});

const SUBSCRIPTION_UPDATED = `subscription($id: ID) { webhookSubscriptionUpdated(id: $id) { id status secret previousSecretExpiresAt } }`;

describe('secret rotation', () => {
  it('issues a new secret; during the grace period requests verify with the old one and the new one', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/rotate`, eventTypes: ONLY_OURS });
    const rotated = await gqlData(
      `mutation($id: ID!) { rotateWebhookSubscriptionSecret(id: $id) {
        __typename ... on WebhookSubscription { secret previousSecretExpiresAt } ... on Error { message } } }`,
      { id: subscription.id },
    );
    const { secret, previousSecretExpiresAt } = rotated.rotateWebhookSubscriptionSecret;
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(subscription.secret);
    expect(Date.parse(previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23 * 3_600_000);

    const event = await ingest({ subscriptionId: subscription.id, eventType: 'lifecycle.rotate', payload: { rotated: true } });
    await waitForEventStatus(event.id, 'DELIVERED');
    const [request] = receiver.requestsFor(event.id);
    const headers = request!.headers as Record<string, string>;
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(secret).verify(request!.body, headers)).toEqual({ rotated: true });
    expect(new Webhook(subscription.secret).verify(request!.body, headers)).toEqual({ rotated: true });

    // After the grace period only the new secret signs.
    await sql(`UPDATE "WebhookSubscription" SET "previousSecretExpiresAt" = now() - interval '1 second' WHERE id = $1`, [subscription.id]);
    const later = await ingest({ subscriptionId: subscription.id, eventType: 'lifecycle.rotate', payload: { later: true } });
    await waitForEventStatus(later.id, 'DELIVERED');
    const laterHeaders = receiver.requestsFor(later.id)[0]!.headers as Record<string, string>;
    expect(laterHeaders['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(() => new Webhook(subscription.secret).verify(receiver.requestsFor(later.id)[0]!.body, laterHeaders)).toThrow();
  });

  it('answers NotFoundError for an unknown subscription', async () => {
    const data = await gqlData(`mutation($id: ID!) { rotateWebhookSubscriptionSecret(id: $id) { __typename } }`, { id: randomUUID() });
    expect(data.rotateWebhookSubscriptionSecret.__typename).toBe('NotFoundError');
  });
});

describe('auto-disable', () => {
  it('disables a subscription whose receiver answers 410 Gone, fails the event, and says so live', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/gone`, eventTypes: ONLY_OURS });
    const watcher = subscribeWs(SUBSCRIPTION_UPDATED, { id: subscription.id });
    try {
      // The watcher's start can't be observed: rename until it sees one.
      await waitFor(
        async () => {
          await gqlData(`mutation($id: ID!) { updateWebhookSubscription(id: $id, input: { name: "gone" }) { __typename } }`, { id: subscription.id });
          await new Promise((resolve) => setTimeout(resolve, 100));
          return watcher.items.length > 0;
        },
        { intervalMs: 0, what: 'the watcher to start' },
      );
      receiver.script('/gone', { status: 410, body: 'gone' });
      const event = await ingest({ subscriptionId: subscription.id, eventType: 'lifecycle.gone', payload: {} });
      const failed = await waitForEventStatus(event.id, 'FAILED');
      expect(failed.attempts).toHaveLength(1);
      expect(failed.attempts[0]).toMatchObject({ responseStatus: 410, nextAttemptAt: null });
      await waitFor(() => watcher.items.some((item) => item.webhookSubscriptionUpdated.status === 'DISABLED'), { what: 'DISABLED on the stream' });
      const after = await ingest({ subscriptionId: subscription.id, eventType: 'lifecycle.gone', payload: {} });
      expect(after.status).toBe('FAILED');
    } finally {
      await watcher.close();
    }
  });

  it('disables a subscription failing for AUTO_DISABLE_AFTER; one that recovered stays ACTIVE', async () => {
    const failing = await TestReceiver.start();
    failing.fallback = { status: 500 };
    try {
      const doomed = await createSubscription({ targetUrl: `${failing.url}/down`, eventTypes: ONLY_OURS });
      const event = await ingest({ subscriptionId: doomed.id, eventType: 'lifecycle.down', payload: {} });
      await waitForEventStatus(event.id, 'FAILED', 15_000);
      const [{ failingSince }] = await sql(`SELECT "failingSince" FROM "WebhookSubscription" WHERE id = $1`, [doomed.id]);
      expect(failingSince).not.toBeNull();

      const healthy = await createSubscription({ targetUrl: `${receiver.url}/recovered`, eventTypes: ONLY_OURS });
      receiver.script('/recovered', { status: 500 });
      const recovered = await ingest({ subscriptionId: healthy.id, eventType: 'lifecycle.ok', payload: {} });
      await waitForEventStatus(recovered.id, 'DELIVERED');
      const [{ failingSince: cleared }] = await sql(`SELECT "failingSince" FROM "WebhookSubscription" WHERE id = $1`, [healthy.id]);
      expect(cleared).toBeNull();

      // Pretend the streak began two hours ago; AUTO_DISABLE_AFTER is 1h in this test's services.
      await sql(`UPDATE "WebhookSubscription" SET "failingSince" = now() - interval '2 hours' WHERE id = $1`, [doomed.id]);
      expect(await disableFailingSubscriptions(services)).toBeGreaterThanOrEqual(1);
      const statuses = await sql(`SELECT id, status FROM "WebhookSubscription" WHERE id = ANY($1::uuid[])`, [[doomed.id, healthy.id]]);
      expect(Object.fromEntries(statuses.map((row) => [row.id, row.status]))).toEqual({ [doomed.id]: 'DISABLED', [healthy.id]: 'ACTIVE' });
    } finally {
      await failing.close();
    }
  });
});

describe('event retention', () => {
  it('deletes finished events older than EVENT_RETENTION, in batches, and keeps the rest', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/retention`, eventTypes: ONLY_OURS });
    await sql(`UPDATE "WebhookSubscription" SET status = 'PAUSED' WHERE id = $1`, [subscription.id]);
    // 250 old finished events, one old event still waiting, and a fresh finished one.
    await sql(
      `INSERT INTO "Event" (id, "subscriptionId", payload, status, "updatedAt", "createdAt")
       SELECT gen_random_uuid(), $1, '{}', (ARRAY['DELIVERED','FAILED','FILTERED'])[1 + n % 3]::"EventStatus", now() - interval '2 hours', now() - interval '2 hours'
       FROM generate_series(1, 250) AS n`,
      [subscription.id],
    );
    const waiting = randomUUID();
    const fresh = randomUUID();
    await sql(
      `INSERT INTO "Event" (id, "subscriptionId", payload, status, "updatedAt", "createdAt") VALUES
       ($1, $3, '{}', 'PENDING', now() - interval '2 hours', now() - interval '2 hours'),
       ($2, $3, '{}', 'DELIVERED', now(), now())`,
      [waiting, fresh, subscription.id],
    );
    const deleted = await deleteExpiredEvents(services, 100);
    expect(deleted).toBeGreaterThanOrEqual(250);
    const left = await sql(`SELECT id FROM "Event" WHERE "subscriptionId" = $1 ORDER BY id`, [subscription.id]);
    expect(left.map((row) => row.id).sort()).toEqual([waiting, fresh].sort());
    expect(await getEvent(waiting)).not.toBeNull();
  });
});

describe('deleting a subscription', () => {
  it('runs again after PostgreSQL ends it as a deadlock with a writer of its events', async () => {
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/deadlock`, eventTypes: ONLY_OURS });
    await sql(`UPDATE "WebhookSubscription" SET status = 'PAUSED' WHERE id = $1`, [subscription.id]);
    const event = await ingest({ subscriptionId: subscription.id, eventType: 'lifecycle.deadlock', payload: {} });
    const connect = async () => {
      const client = new pg.Client({ connectionString: stack().databaseUrl });
      await client.connect();
      return client;
    };
    const pidOf = async (client: pg.Client): Promise<number> => (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    // A writer holding the event's row, as a worker recording its attempt does, and a holder of
    // the subscription's row that lines the delete and the writer up behind it.
    const writer = await connect();
    const holder = await connect();
    try {
      // The cycle must be found in the delete's backend: the writer checks only after a minute.
      await writer.query(`SET deadlock_timeout = '60s'`);
      await writer.query('BEGIN');
      await writer.query(`UPDATE "Event" SET "updatedAt" = now() WHERE id = $1`, [event.id]);
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "WebhookSubscription" WHERE id = $1 FOR UPDATE`, [subscription.id]);
      const [writerPid, holderPid] = await Promise.all([pidOf(writer), pidOf(holder)]);

      const deleting = deleteWebhookSubscription(services, subscription.id);
      const outcome = deleting.then(() => 'deleted', (error: Error) => `failed: ${error.message}`);
      await waitFor(async () => (await sql(`SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [holderPid])).length > 0, {
        what: 'the delete queued for the subscription row',
      });
      // The writer queues behind the delete for the same row.
      const writerLocks = writer.query(`SELECT 1 FROM "WebhookSubscription" WHERE id = $1 FOR UPDATE`, [subscription.id]);
      await waitFor(async () => (await sql(`SELECT cardinality(pg_blocking_pids($1)) AS n`, [writerPid]))[0].n > 0, {
        what: 'the writer queued behind the delete',
      });
      // Released, the delete takes the row and its cascade waits for the event's row while the
      // writer waits for the delete: a cycle closed inside PostgreSQL, with no client step
      // between the two waits. The delete's check (deadlock_timeout) ends it; the writer gets the row.
      await holder.query('COMMIT');
      expect((await writerLocks).rowCount).toBe(1);
      // The delete runs again and waits for the writer to finish.
      await writer.query('COMMIT');
      expect(await outcome).toBe('deleted');
    } finally {
      await Promise.all([writer.end(), holder.end()]);
    }
    expect(await sql(`SELECT id FROM "WebhookSubscription" WHERE id = $1`, [subscription.id])).toEqual([]);
    expect(await sql(`SELECT id FROM "Event" WHERE id = $1`, [event.id])).toEqual([]);
  }, 30_000);
});
