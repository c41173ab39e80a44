// The REST routes of the system hookd replaces, and the health checks.
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { rest, stack, waitForEventStatus } from '../helpers/api.ts';
import { TestReceiver } from '../helpers/receiver.ts';

const receiver = TestReceiver.forFile();

describe('POST /api/subscriptions/', () => {
  it('creates a subscription: 201 with the old shape', async () => {
    const created = await rest('POST', '/api/subscriptions/', { target_url: `${receiver.url}/rest`, event_types: ['order.*'] });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ target_url: `${receiver.url}/rest`, event_types: ['order.*'], status: 'ACTIVE' });
    expect(created.json.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.json.secret).toMatch(/^whsec_/);
    expect(Date.parse(created.json.created_at)).not.toBeNaN();
  });

  it('works without the trailing slash', async () => {
    const created = await rest('POST', '/api/subscriptions', { target_url: `${receiver.url}/rest` });
    expect(created.status).toBe(201);
  });

  it.each([
    ['a bad target_url', { target_url: 'nope' }, 'target_url'],
    ['no target_url', { event_types: [] }, 'target_url'],
    ['event_types not a list', { target_url: 'http://127.0.0.1:9/', event_types: 'order.*' }, 'event_types'],
    ['a bad secret', { target_url: 'http://127.0.0.1:9/', secret: 'short' }, 'secret'],
  ])('answers 400 naming the field for %s', async (_what, body, field) => {
    const response = await rest('POST', '/api/subscriptions/', body);
    expect(response.status).toBe(400);
    expect(response.json.error).toContain(field);
  });

  it('answers 400 for a body that is not a JSON object', async () => {
    expect((await rest('POST', '/api/subscriptions/', '{oops')).status).toBe(400);
    expect((await rest('POST', '/api/subscriptions/', '[1,2]')).status).toBe(400);
  });
});

describe('GET /api/subscriptions/:id/', () => {
  it('answers the subscription, or 404', async () => {
    const created = await rest('POST', '/api/subscriptions/', { target_url: `${receiver.url}/rest-get` });
    const found = await rest('GET', `/api/subscriptions/${created.json.id}/`);
    expect(found.status).toBe(200);
    expect(found.json).toEqual(created.json);
    expect((await rest('GET', `/api/subscriptions/${created.json.id}`)).status).toBe(200);
    expect((await rest('GET', `/api/subscriptions/${randomUUID()}/`)).status).toBe(404);
    expect((await rest('GET', `/api/subscriptions/not-a-uuid/`)).status).toBe(404);
  });
});

describe('POST /api/ingest/:subscription_id/', () => {
  it('accepts the payload with 202, delivers it signed, and reports its status', async () => {
    const subscription = (await rest('POST', '/api/subscriptions/', { target_url: `${receiver.url}/rest-ingest`, event_types: ['order.*'] })).json;
    const accepted = await rest('POST', `/api/ingest/${subscription.id}/`, { order_id: 1 }, { 'x-event-type': 'order.created' });
    expect(accepted.status).toBe(202);
    expect(accepted.json).toEqual({ event_id: expect.any(String), status: 'PENDING' });
    await waitForEventStatus(accepted.json.event_id, 'DELIVERED');
    const [request] = receiver.requestsFor(accepted.json.event_id);
    expect(new Webhook(subscription.secret).verify(request!.body, request!.headers as Record<string, string>)).toEqual({ order_id: 1 });

    const status = await rest('GET', `/api/events/${accepted.json.event_id}/status/`);
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({ event_id: accepted.json.event_id, status: 'DELIVERED', attempt_count: 1 });
    expect(status.json.attempts).toEqual([
      { attempt_number: 1, attempted_at: expect.any(String), success: true, status_code: 200, duration_ms: expect.any(Number), error: null },
    ]);
  });

  it('takes the event type from ?event_type= and filters by it', async () => {
    const subscription = (await rest('POST', '/api/subscriptions/', { target_url: `${receiver.url}/rest-type`, event_types: ['a.b'] })).json;
    const filtered = await rest('POST', `/api/ingest/${subscription.id}?event_type=c.d`, { x: 1 });
    expect(filtered.json.status).toBe('FILTERED');
    const matched = await rest('POST', `/api/ingest/${subscription.id}/?event_type=a.b`, { x: 1 });
    expect(matched.json.status).toBe('PENDING');
  });

  it('honours Idempotency-Key', async () => {
    const subscription = (await rest('POST', '/api/subscriptions/', { target_url: `${receiver.url}/rest-idem` })).json;
    const key = randomUUID();
    const first = await rest('POST', `/api/ingest/${subscription.id}/`, { n: 1 }, { 'idempotency-key': key });
    const second = await rest('POST', `/api/ingest/${subscription.id}/`, { n: 2 }, { 'idempotency-key': key });
    expect(second.json.event_id).toBe(first.json.event_id);
  });

  it('answers 404, 400 and 413 for an unknown subscription, a body that is not JSON, and one too large', async () => {
    expect((await rest('POST', `/api/ingest/${randomUUID()}/`, { a: 1 })).status).toBe(404);
    const subscription = (await rest('POST', '/api/subscriptions/', { target_url: `${receiver.url}/rest-bad` })).json;
    const notJson = await rest('POST', `/api/ingest/${subscription.id}/`, 'not json');
    expect(notJson.status).toBe(400);
    expect(notJson.json.error).toMatch(/JSON/);
    const tooLarge = await rest('POST', `/api/ingest/${subscription.id}/`, { blob: 'x'.repeat(Number(stack().env.MAX_PAYLOAD_BYTES)) });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.json.error).toMatch(/MAX_PAYLOAD_BYTES/);
    const emptyType = await rest('POST', `/api/ingest/${subscription.id}/`, { a: 1 }, { 'x-event-type': '' });
    expect(emptyType.status).toBe(400);
    expect(emptyType.json.error).toMatch(/event_type/);
  });
});

describe('GET /api/events/:id/status/', () => {
  it('lists attempts newest first, at most limit', async () => {
    const failing = await TestReceiver.start();
    failing.fallback = { status: 500 };
    try {
      const subscription = (await rest('POST', '/api/subscriptions/', { target_url: `${failing.url}/x` })).json;
      const accepted = await rest('POST', `/api/ingest/${subscription.id}/`, { n: 1 });
      await waitForEventStatus(accepted.json.event_id, 'FAILED', 15_000);
      const status = await rest('GET', `/api/events/${accepted.json.event_id}/status/?limit=2`);
      expect(status.json.attempt_count).toBe(Number(stack().env.MAX_ATTEMPTS));
      expect(status.json.attempts.map((a: any) => a.attempt_number)).toEqual([4, 3]);
      expect(status.json.attempts[0]).toMatchObject({ success: false, status_code: 500, error: 'HTTP 500' });
    } finally {
      await failing.close();
    }
  });

  it('answers 404 for an unknown event and 400 for a bad limit', async () => {
    expect((await rest('GET', `/api/events/${randomUUID()}/status/`)).status).toBe(404);
    expect((await rest('GET', `/api/events/${randomUUID()}/status/?limit=abc`)).status).toBe(400);
    expect((await rest('GET', `/api/events/${randomUUID()}/status/?limit=0`)).status).toBe(400);
  });
});

describe('health', () => {
  it('answers /health and /ready without a token', async () => {
    const health = await fetch(`${stack().url}/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${stack().url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', postgres: 'ok', redis: 'ok' });
  });
});
