// Bad input: a ValidationError naming the field, NotFoundError for unknown ids, BAD_USER_INPUT
// for page sizes, and nothing half-written.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSubscription, gqlData, graphql, stack } from '../helpers/api.ts';
import { sql } from '../helpers/db.ts';
import { TestReceiver } from '../helpers/receiver.ts';

const receiver = TestReceiver.forFile();
let subscriptionId: string;
beforeAll(async () => {
  subscriptionId = (await createSubscription({ targetUrl: `${receiver.url}/validation` })).id;
});

const CREATE = `mutation($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) {
  __typename ... on ValidationError { message fieldErrors { path message } } ... on WebhookSubscription { id } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateWebhookSubscriptionInput!) { updateWebhookSubscription(id: $id, input: $input) {
  __typename ... on Error { message } ... on ValidationError { fieldErrors { path message } } ... on WebhookSubscription { id targetUrl } } }`;
const INGEST = `mutation($input: IngestEventInput!) { ingestEvent(input: $input) {
  __typename ... on Error { message } ... on ValidationError { fieldErrors { path message } } ... on Event { id } } }`;
const PUBLISH = `mutation($input: PublishEventInput!) { publishEvent(input: $input) {
  __typename ... on ValidationError { message fieldErrors { path message } } ... on PublishedEvents { events { id } } } }`;

const paths = (result: any) => result.fieldErrors.map((fieldError: any) => fieldError.path.join('.'));

describe('createWebhookSubscription', () => {
  it.each([
    ['a relative URL', { targetUrl: '/hooks' }, 'targetUrl'],
    ['a non-http scheme', { targetUrl: 'ftp://example.com/x' }, 'targetUrl'],
    ['garbage', { targetUrl: 'not a url' }, 'targetUrl'],
    ['an empty event type filter', { targetUrl: 'http://127.0.0.1:9/x', eventTypes: [''] }, 'eventTypes.0'],
    ['a malformed event type filter', { targetUrl: 'http://127.0.0.1:9/x', eventTypes: ['ok.type', 'has space'] }, 'eventTypes.1'],
    ['a secret without the whsec_ prefix', { targetUrl: 'http://127.0.0.1:9/x', secret: 'hunter2' }, 'secret'],
    ['a secret too short', { targetUrl: 'http://127.0.0.1:9/x', secret: 'whsec_' + Buffer.alloc(8).toString('base64') }, 'secret'],
    ['a name too long', { targetUrl: 'http://127.0.0.1:9/x', name: 'n'.repeat(201) }, 'name'],
  ])('rejects %s with a ValidationError naming the field, writing nothing', async (_what, input, field) => {
    const name = `invalid-${randomUUID()}`;
    const data = await gqlData(CREATE, { input: { name, ...input } });
    const result = data.createWebhookSubscription;
    expect(result.__typename).toBe('ValidationError');
    expect(paths(result)).toContain(field);
    expect(result.message).toContain(field);
    expect(await sql(`SELECT 1 FROM "WebhookSubscription" WHERE name = $1`, [name])).toHaveLength(0);
  });

  it('reports every bad field at once', async () => {
    const data = await gqlData(CREATE, { input: { targetUrl: 'nope', eventTypes: [''], secret: 'x' } });
    expect(paths(data.createWebhookSubscription).sort()).toEqual(['eventTypes.0', 'secret', 'targetUrl']);
  });

  it('accepts a given valid secret and keeps it', async () => {
    const secret = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    const data = await gqlData(`mutation($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) {
      ... on WebhookSubscription { secret status eventTypes name } } }`, { input: { targetUrl: 'http://127.0.0.1:9/x', secret, name: ' named ' } });
    expect(data.createWebhookSubscription).toEqual({ secret, status: 'ACTIVE', eventTypes: [], name: 'named' });
  });
});

describe('updateWebhookSubscription', () => {
  it('rejects a bad targetUrl and leaves the subscription as it was', async () => {
    const data = await gqlData(UPDATE, { id: subscriptionId, input: { targetUrl: 'mailto:x@y.z', name: 'changed' } });
    expect(data.updateWebhookSubscription.__typename).toBe('ValidationError');
    expect(paths(data.updateWebhookSubscription)).toEqual(['targetUrl']);
    const [row] = await sql(`SELECT "targetUrl", name FROM "WebhookSubscription" WHERE id = $1`, [subscriptionId]);
    expect(row.targetUrl).toBe(`${receiver.url}/validation`);
    expect(row.name).not.toBe('changed');
  });

  it('rejects an unknown status, naming it', async () => {
    const result = await graphql(UPDATE, { id: subscriptionId, input: { status: 'SLEEPING' } });
    expect(result.errors?.[0]?.message).toMatch(/SLEEPING/);
    expect(result.errors?.[0]?.message).toMatch(/status|WebhookSubscriptionStatus/);
  });

  it('answers NotFoundError for an unknown id, and for one that is not a UUID', async () => {
    for (const id of [randomUUID(), 'not-a-uuid']) {
      const data = await gqlData(UPDATE, { id, input: { name: 'x' } });
      expect(data.updateWebhookSubscription.__typename).toBe('NotFoundError');
      expect(data.updateWebhookSubscription.message).toContain(id);
    }
  });
});

describe('deleteWebhookSubscription', () => {
  it('deletes, then answers NotFoundError', async () => {
    const doomed = await createSubscription({ targetUrl: `${receiver.url}/doomed` });
    const DELETE = `mutation($id: ID!) { deleteWebhookSubscription(id: $id) { __typename ... on DeletedWebhookSubscription { id } ... on Error { message } } }`;
    expect((await gqlData(DELETE, { id: doomed.id })).deleteWebhookSubscription).toEqual({ __typename: 'DeletedWebhookSubscription', id: doomed.id });
    expect((await gqlData(DELETE, { id: doomed.id })).deleteWebhookSubscription.__typename).toBe('NotFoundError');
    expect((await gqlData(`query($id: ID!) { webhookSubscription(id: $id) { id } }`, { id: doomed.id })).webhookSubscription).toBeNull();
  });
});

describe('ingestEvent and publishEvent', () => {
  it('rejects an empty eventType', async () => {
    const data = await gqlData(INGEST, { input: { subscriptionId, eventType: '', payload: {} } });
    expect(data.ingestEvent.__typename).toBe('ValidationError');
    expect(paths(data.ingestEvent)).toEqual(['eventType']);
    const published = await gqlData(PUBLISH, { input: { eventType: '  ', payload: {} } });
    expect(paths(published.publishEvent)).toEqual(['eventType']);
  });

  it('rejects a payload over MAX_PAYLOAD_BYTES, writing nothing', async () => {
    const limit = Number(stack().env.MAX_PAYLOAD_BYTES);
    const key = randomUUID();
    const data = await gqlData(INGEST, { input: { subscriptionId, payload: { blob: 'x'.repeat(limit) }, idempotencyKey: key } });
    expect(data.ingestEvent.__typename).toBe('ValidationError');
    expect(paths(data.ingestEvent)).toEqual(['payload']);
    expect(data.ingestEvent.message).toMatch(/MAX_PAYLOAD_BYTES/);
    expect(await sql(`SELECT 1 FROM "Event" WHERE "idempotencyKey" = $1`, [key])).toHaveLength(0);
  });

  it('rejects a null payload, naming it', async () => {
    const result = await graphql(INGEST, { input: { subscriptionId, payload: null } });
    expect(result.errors?.[0]?.message).toMatch(/payload/);
    expect(result.data).toBeUndefined();
  });

  it('answers NotFoundError for an unknown subscription', async () => {
    const id = randomUUID();
    const data = await gqlData(INGEST, { input: { subscriptionId: id, payload: {} } });
    expect(data.ingestEvent.__typename).toBe('NotFoundError');
    expect(data.ingestEvent.message).toContain(id);
  });
});

describe('queries', () => {
  it('answers null for unknown ids', async () => {
    const data = await gqlData(`query($id: ID!) { event(id: $id) { id } webhookSubscription(id: $id) { id } }`, { id: randomUUID() });
    expect(data).toEqual({ event: null, webhookSubscription: null });
  });

  it.each([0, 101, -1])('rejects first: %i on connections with BAD_USER_INPUT', async (first) => {
    for (const query of [
      `query($first: Int) { events(first: $first) { edges { cursor } } }`,
      `query($first: Int) { webhookSubscriptions(first: $first) { edges { cursor } } }`,
      `query($first: Int) { deliveryAttempts(first: $first) { edges { cursor } } }`,
    ]) {
      const result = await graphql(query, { first });
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toMatch(/first/);
    }
    const nested = await graphql(`query($id: ID!, $first: Int) { webhookSubscription(id: $id) { events(first: $first) { edges { cursor } } } }`, {
      id: subscriptionId,
      first,
    });
    expect(nested.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('accepts first: 1 and first: 100', async () => {
    for (const first of [1, 100]) {
      const result = await graphql(`query($first: Int) { events(first: $first) { edges { cursor } } }`, { first });
      expect(result.errors).toBeUndefined();
    }
  });

  it('answers a garbage cursor with BAD_USER_INPUT', async () => {
    const result = await graphql(`query { events(first: 1, after: "bm90LWEtY3Vyc29y") { edges { cursor } } }`);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.data).toBeNull();
  });
});
