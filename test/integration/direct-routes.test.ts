// Plain JSON POSTs to /graphql and REST's ingest skip Yoga's HTTP layer (server/direct.ts). Each
// request here is sent twice to one server: as a producer sends it (answered directly), and with a
// header that Yoga reads the same way but that the direct routes leave to Yoga (an Accept list; an
// Origin). The two answers must be the same, and everything the routes do not take must reach
// Yoga with its body intact.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { Subscriber } from '../../core/pubsub.ts';
import { createRedis, createServices, type Services } from '../../core/services.ts';
import { createApp } from '../../server/app.ts';
import { createTokenCheck } from '../../server/auth.ts';
import { withDirectRoutes } from '../../server/direct.ts';
import { graphqlJsonRoute, plainAnswerType, plainParams } from '../../server/json-post.ts';
import { restIngestRoute } from '../../server/rest.ts';
import { maxRequestBodyBytes } from '../../server/limits.ts';
import { createSubscription, stack } from '../helpers/api.ts';
import { waitFor } from '../helpers/wait.ts';

let services: Services;
let subscriber: Subscriber;
let subscriberRedis: ReturnType<typeof createRedis>;
let server: Server;
let origin: string;
let url: string;
/** Requests that reached Yoga's own handler, and all the server took. */
let yogaCalls = 0;
let requestsSeen = 0;

beforeAll(async () => {
  const config = loadConfig(stack().env);
  services = createServices(config, 'test');
  subscriberRedis = createRedis(config, services.log, 'json-post-test', 'subscriber');
  subscriber = new Subscriber(subscriberRedis, config.queuePrefix);
  const yoga = createApp(services, subscriber);
  const counted = new Proxy(yoga, {
    apply(target, self, args) {
      yogaCalls++;
      return Reflect.apply(target, self, args);
    },
  });
  const routes = [graphqlJsonRoute(counted, maxRequestBodyBytes(config), services.log), restIngestRoute(services)];
  server = createServer(withDirectRoutes(counted, { routes, checkToken: createTokenCheck(config.apiTokens), log: services.log }));
  server.on('request', () => requestsSeen++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  url = `${origin}/graphql`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  subscriberRedis.disconnect();
  await services.close();
});

interface Answer {
  status: number;
  contentType: string | null;
  body: string;
  /** Whether Yoga's handler answered it. */
  byYoga: boolean;
}

async function post(body: string, headers: Record<string, string> = {}, path = '/graphql'): Promise<Answer> {
  const before = yogaCalls;
  const response = await fetch(`${origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack().token}`, accept: '*/*', ...headers },
    body,
  });
  return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text(), byYoga: yogaCalls > before };
}

/** The same request by the plain path and by Yoga; both answers, checked to be alike. */
async function bothWays(body: unknown, accept = '*/*') {
  const text = JSON.stringify(body);
  const plain = await post(text, { accept });
  // Yoga answers `X, */*` as it answers X (or `*/*` alone): the last match it finds wins.
  const yoga = await post(text, { accept: accept === '*/*' ? 'application/json, */*' : `${accept}, application/json` });
  expect(plain.byYoga).toBe(false);
  expect(yoga.byYoga).toBe(true);
  expect({ ...plain, byYoga: null }).toEqual({ ...yoga, byYoga: null });
  return plain;
}

const UNKNOWN_ID = 'b7b7b7b7-0000-4000-8000-000000000000';
const INGEST = `mutation($input: IngestEventInput!) { ingestEvent(input: $input) {
  __typename ... on Event { id eventType } ... on Error { message } } }`;

describe('plain JSON POSTs to /graphql', () => {
  it('answer a query as Yoga does', async () => {
    const answer = await bothWays({ query: '{ __typename }' });
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('application/json; charset=utf-8');
    expect(JSON.parse(answer.body)).toEqual({ data: { __typename: 'Query' } });
  });

  it('answer a mutation with an error in its result as Yoga does', async () => {
    const answer = await bothWays({ query: INGEST, variables: { input: { subscriptionId: UNKNOWN_ID, eventType: 'order.created', payload: {} } } });
    expect(JSON.parse(answer.body).data.ingestEvent.__typename).toBe('NotFoundError');
  });

  it('answer variables of the wrong type as Yoga does, for either JSON media type', async () => {
    const body = { query: INGEST, variables: { input: { subscriptionId: 5 } } };
    const json = await bothWays(body);
    expect(JSON.parse(json.body).errors[0].message).toMatch(/\$input/);
    const graphqlJson = await bothWays(body, 'application/graphql-response+json');
    expect(graphqlJson.contentType).toBe('application/graphql-response+json; charset=utf-8');
    expect(JSON.parse(graphqlJson.body)).toEqual(JSON.parse(json.body));
  });

  it('ingest through the plain path', async () => {
    const subscription = await createSubscription({ name: 'json-post', targetUrl: 'http://127.0.0.1:9/never-called' });
    const answer = await post(JSON.stringify({ query: INGEST, variables: { input: { subscriptionId: subscription.id, eventType: 'order.created', payload: { n: 1 } } } }));
    expect(answer.byYoga).toBe(false);
    const event = JSON.parse(answer.body).data.ingestEvent;
    expect(event).toMatchObject({ __typename: 'Event', eventType: 'order.created' });
    const row = await services.db.event.findUnique({ where: { id: event.id } });
    expect(row?.subscriptionId).toBe(subscription.id);
  });

  it('leave to Yoga, body intact, what they do not take', async () => {
    const cases: { body: string; headers?: Record<string, string>; status: number; says: RegExp }[] = [
      { body: '{ "query": "{ __typename ', status: 400, says: /JSON|json/ },
      // application/json: GraphQL's own errors come with 200 (Yoga follows the GraphQL over HTTP spec).
      { body: JSON.stringify({ query: '{ __typename' }), status: 200, says: /Syntax Error/ },
      { body: JSON.stringify({ query: '{ noSuchField }' }), status: 200, says: /noSuchField/ },
      { body: JSON.stringify([{ query: '{ __typename }' }]), status: 400, says: /batch|array|object/i },
      { body: JSON.stringify({ query: '{ __typename }', extensions: { persistedQuery: 1 } }), status: 200, says: /"__typename":"Query"/ },
      { body: JSON.stringify({ query: '{ __typename }' }), headers: { authorization: 'Bearer wrong' }, status: 401, says: /bearer token/ },
      { body: JSON.stringify({ query: '{ __typename }' }), headers: { accept: 'text/html' }, status: 406, says: /^$/ },
    ];
    for (const { body, headers, status, says } of cases) {
      const answer = await post(body, headers);
      expect(answer.byYoga, body).toBe(true);
      expect(answer.status, body).toBe(status);
      expect(answer.body, body).toMatch(says);
    }
  });

  it('leave a body over the limit to Yoga, which refuses it unread', async () => {
    const limit = maxRequestBodyBytes(loadConfig(stack().env));
    const answer = await post(JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(limit) } }));
    expect(answer.byYoga).toBe(true);
    expect(answer.status).toBe(413);
  });

  it('outlive a client that leaves in the middle of its body', async () => {
    const { port } = new URL(url);
    const seenBefore = requestsSeen;
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(
      `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\naccept: */*\r\n` +
        `authorization: Bearer ${stack().token}\r\ncontent-length: 100\r\n\r\n{"query":`,
    );
    // The server has the headers and part of the body; then the connection is reset.
    await waitFor(() => requestsSeen > seenBefore, { what: 'the server to take the request' });
    socket.resetAndDestroy();
    await once(socket, 'close');
    const answer = await post(JSON.stringify({ query: '{ __typename }' }));
    expect(answer.status).toBe(200);
    expect(answer.byYoga).toBe(false);
  });
});

describe("REST's ingest", () => {
  /** The same REST ingest directly and by Yoga (an Origin makes it a CORS request, which is Yoga's). */
  async function restBothWays(path: string, body: string, headers: Record<string, string> = {}) {
    const direct = await post(body, headers, path);
    const yoga = await post(body, { ...headers, origin: 'http://dashboard.example' }, path);
    expect(direct.byYoga).toBe(false);
    expect(yoga.byYoga).toBe(true);
    return { direct, yoga };
  }

  it('accepts an event directly, answering as the route does through Yoga', async () => {
    const subscription = await createSubscription({ name: 'direct-rest', targetUrl: 'http://127.0.0.1:9/never-called' });
    const { direct, yoga } = await restBothWays(`/api/ingest/${subscription.id}/?event_type=order.paid`, JSON.stringify({ n: 1 }));
    for (const answer of [direct, yoga]) {
      expect(answer.status).toBe(202);
      expect(answer.contentType).toBe('application/json');
      expect(Object.keys(JSON.parse(answer.body)).sort()).toEqual(['event_id', 'status']);
    }
    const row = await services.db.event.findUnique({ where: { id: JSON.parse(direct.body).event_id } });
    expect(row).toMatchObject({ subscriptionId: subscription.id, eventType: 'order.paid', payload: { n: 1 } });
  });

  it("answers the client's mistakes as the route does through Yoga", async () => {
    const subscription = await createSubscription({ name: 'direct-rest-errors', targetUrl: 'http://127.0.0.1:9/never-called' });
    const cases = [
      { path: `/api/ingest/${UNKNOWN_ID}/`, body: '{}', status: 404 },
      { path: `/api/ingest/${subscription.id}/`, body: '{ not json', status: 400 },
      { path: `/api/ingest/${subscription.id}/`, body: '{}', headers: { 'x-event-type': ' ' }, status: 400 },
      { path: `/api/ingest/not-a-uuid/`, body: '{}', status: 404 },
    ];
    for (const { path, body, headers, status } of cases) {
      const { direct, yoga } = await restBothWays(path, body, headers);
      expect(direct.status, `${path} ${body}`).toBe(status);
      expect({ ...direct, byYoga: null }).toEqual({ ...yoga, byYoga: null });
    }
  });

  it('leaves to Yoga what it does not take', async () => {
    const subscription = await createSubscription({ name: 'direct-rest-yoga', targetUrl: 'http://127.0.0.1:9/never-called' });
    const maxPayloadBytes = loadConfig(stack().env).maxPayloadBytes;
    const cases: { path: string; body: string; headers?: Record<string, string>; status: number }[] = [
      { path: `/api/ingest/${subscription.id}/`, body: JSON.stringify({ pad: 'x'.repeat(maxPayloadBytes) }), status: 413 },
      { path: '/api/ingest/%E0%A4%A/', body: '{}', status: 400 },
      { path: `/api/ingest/${subscription.id}/`, body: '{}', headers: { authorization: 'Bearer wrong' }, status: 401 },
      { path: `/api/subscriptions/`, body: '{}', status: 400 },
    ];
    for (const { path, body, headers, status } of cases) {
      const answer = await post(body, headers, path);
      expect(answer.byYoga, path).toBe(true);
      expect(answer.status, path).toBe(status);
    }
  });
});

describe('what the plain path takes', () => {
  it('takes the JSON media types Yoga answers with application/json or graphql-response+json', () => {
    expect(plainAnswerType(undefined)).toBe('application/json');
    expect(plainAnswerType('*/*')).toBe('application/json');
    expect(plainAnswerType('Application/JSON; charset=utf-8')).toBe('application/json');
    expect(plainAnswerType('application/graphql-response+json')).toBe('application/graphql-response+json');
    expect(plainAnswerType('application/json, */*')).toBeNull();
    expect(plainAnswerType('text/event-stream')).toBeNull();
    expect(plainAnswerType('application/json; charset=latin1')).toBeNull();
  });

  it('takes bodies with a query and nothing Yoga would refuse', () => {
    expect(plainParams({ query: '{ a }' })).not.toBeNull();
    expect(plainParams({ query: '{ a }', variables: null, operationName: null })).not.toBeNull();
    expect(plainParams({ query: '{ a }', variables: {}, operationName: 'A' })).not.toBeNull();
    expect(plainParams({ query: 1 })).toBeNull();
    expect(plainParams({ query: '{ a }', variables: [] })).toBeNull();
    expect(plainParams({ query: '{ a }', variables: 'x' })).toBeNull();
    expect(plainParams({ query: '{ a }', operationName: 2 })).toBeNull();
    expect(plainParams({ query: '{ a }', extensions: {} })).toBeNull();
    expect(plainParams([{ query: '{ a }' }])).toBeNull();
    expect(plainParams(null)).toBeNull();
  });
});
