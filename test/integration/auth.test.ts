// With API_TOKENS set: HTTP needs a bearer token (401 UNAUTHENTICATED), WebSocket needs it in
// connection_init (closed with 4403).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { graphql, stack } from '../helpers/api.ts';

const wsUrl = () => `${stack().url.replace('http', 'ws')}/graphql`;

describe('HTTP', () => {
  it.each([
    ['no token', null],
    ['a wrong token', 'wrong-token-wrong-token'],
  ])('answers 401 UNAUTHENTICATED to GraphQL with %s', async (_what, token) => {
    const result = await graphql(`{ webhookSubscriptions(first: 1) { edges { cursor } } }`, {}, { token });
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(result.data).toBeUndefined();
  });

  it('accepts every configured token, with any case of "Bearer"', async () => {
    const tokens = stack().env.API_TOKENS!.split(',');
    for (const token of tokens) {
      const response = await fetch(`${stack().url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `bearer ${token}` },
        body: JSON.stringify({ query: '{ webhookSubscriptions(first: 1) { pageInfo { hasNextPage } } }' }),
      });
      expect(response.status).toBe(200);
    }
  });

  it('answers 401 to REST routes without a token', async () => {
    for (const [method, path] of [
      ['POST', '/api/subscriptions/'],
      ['GET', '/api/subscriptions/00000000-0000-4000-8000-000000000000/'],
      ['POST', '/api/ingest/00000000-0000-4000-8000-000000000000/'],
      ['GET', '/api/events/00000000-0000-4000-8000-000000000000/status/'],
    ] as const) {
      const response = await fetch(`${stack().url}${path}`, { method, body: method === 'POST' ? '{}' : undefined });
      expect(response.status, `${method} ${path}`).toBe(401);
    }
  });

  it('serves GraphiQL to a browser without a token', async () => {
    const response = await fetch(`${stack().url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/graphiql/i);
  });
});

describe('WebSocket', () => {
  async function connect(connectionParams: Record<string, unknown> | undefined) {
    return new Promise<{ closedWith?: number; data?: unknown }>((resolve) => {
      const client = createClient({ url: wsUrl(), webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
      const unsubscribe = client.subscribe(
        { query: '{ __typename }' },
        {
          next: (value) => {
            resolve({ data: value.data });
            unsubscribe();
            void client.dispose();
          },
          error: (error) => {
            resolve({ closedWith: (error as CloseEvent).code });
            void client.dispose();
          },
          complete: () => {},
        },
      );
    });
  }

  it('closes the socket with 4403 for a missing or wrong token', async () => {
    expect(await connect(undefined)).toEqual({ closedWith: 4403 });
    expect(await connect({ authorization: 'Bearer nope-nope-nope-nope' })).toEqual({ closedWith: 4403 });
  });

  it('accepts the token in connection_init, whatever the key case', async () => {
    expect(await connect({ authorization: `Bearer ${stack().token}` })).toEqual({ data: { __typename: 'Query' } });
    expect(await connect({ Authorization: `Bearer ${stack().token}` })).toEqual({ data: { __typename: 'Query' } });
  });
});
