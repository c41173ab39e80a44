import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { useServer } from 'graphql-ws/use/ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import {
  authorizationHeader,
  clearToken,
  connectionParams,
  isUnauthenticatedResponse,
  probeHttp,
  probeSocket,
  readToken,
  writeToken,
} from '../../../web/src/lib/auth.ts';
import { FORBIDDEN_CLOSE_CODE, retryDelay, shouldRetry, websocketUrl } from '../../../web/src/lib/connection.ts';

const UNAUTHENTICATED = { errors: [{ message: 'A valid bearer token is required', extensions: { code: 'UNAUTHENTICATED' } }] };

describe('token storage', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('keeps the token in localStorage', () => {
    const store = new Map<string, string>();
    vi.stubGlobal('localStorage', {
      getItem: (key: string) => store.get(key) ?? null,
      setItem: (key: string, value: string) => store.set(key, value),
      removeItem: (key: string) => store.delete(key),
    });
    expect(readToken()).toBeNull();
    writeToken('s3cret-token-0123456789');
    expect(readToken()).toBe('s3cret-token-0123456789');
    clearToken();
    expect(readToken()).toBeNull();
  });

  it('copes without storage', () => {
    vi.stubGlobal('localStorage', {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
      removeItem: () => {
        throw new Error('denied');
      },
    });
    expect(() => writeToken('x')).not.toThrow();
    expect(readToken()).toBeNull();
    expect(() => clearToken()).not.toThrow();
  });
});

describe('headers and connection params', () => {
  it('send the token as a bearer token, or nothing', () => {
    expect(authorizationHeader('abc')).toEqual({ authorization: 'Bearer abc' });
    expect(authorizationHeader(null)).toEqual({});
    expect(connectionParams('abc')).toEqual({ authorization: 'Bearer abc' });
    expect(connectionParams(null)).toEqual({});
  });
});

describe('isUnauthenticatedResponse', () => {
  it('is a 401 whose first error says UNAUTHENTICATED', () => {
    expect(isUnauthenticatedResponse(401, UNAUTHENTICATED)).toBe(true);
    expect(isUnauthenticatedResponse(401, { errors: [] })).toBe(false);
    expect(isUnauthenticatedResponse(401, null)).toBe(false);
    expect(isUnauthenticatedResponse(200, UNAUTHENTICATED)).toBe(false);
    expect(isUnauthenticatedResponse(403, UNAUTHENTICATED)).toBe(false);
  });
});

describe('probeHttp', () => {
  const respond = (status: number, body: unknown) => vi.fn(async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));

  it('is ok when the API answers the query', async () => {
    const fetchImpl = respond(200, { data: { __typename: 'Query' } });
    expect(await probeHttp('tok', fetchImpl as unknown as typeof fetch)).toEqual({ kind: 'ok' });
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/graphql');
    expect((init.headers as Record<string, string>).authorization).toBe('Bearer tok');
  });

  it('asks for a token on 401 UNAUTHENTICATED', async () => {
    expect(await probeHttp(null, respond(401, UNAUTHENTICATED) as unknown as typeof fetch)).toEqual({ kind: 'unauthenticated' });
  });

  it('reports an unreachable API', async () => {
    const failing = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    expect(await probeHttp(null, failing as unknown as typeof fetch)).toEqual({ kind: 'unreachable', message: 'Failed to fetch' });
    expect(await probeHttp(null, respond(502, {}) as unknown as typeof fetch)).toEqual({ kind: 'unreachable', message: 'the API answered HTTP 502' });
  });
});

describe('the WebSocket policy', () => {
  it('retries on anything but a refused token (4403)', () => {
    expect(shouldRetry({ code: 1006, reason: '' })).toBe(true);
    expect(shouldRetry(new Error('boom'))).toBe(true);
    expect(shouldRetry({ code: FORBIDDEN_CLOSE_CODE, reason: 'Forbidden' })).toBe(false);
  });

  it('backs off up to about 10 s', () => {
    expect(retryDelay(0, () => 0)).toBe(500);
    expect(retryDelay(1, () => 0)).toBe(1000);
    expect(retryDelay(3, () => 0)).toBe(4000);
    expect(retryDelay(50, () => 0)).toBe(10_000);
    expect(retryDelay(50, () => 0.999)).toBe(10_499);
  });

  it('uses the page host, wss on https', () => {
    expect(websocketUrl({ protocol: 'http:', host: 'localhost:4000' })).toBe('ws://localhost:4000/graphql');
    expect(websocketUrl({ protocol: 'https:', host: 'hookd.example.com' })).toBe('wss://hookd.example.com/graphql');
  });
});

// graphql-ws, loaded by Node, uses graphql's CommonJS build: its schema must come from there too.
const { buildSchema } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

describe('probeSocket, against a real graphql-ws server', () => {
  const TOKEN = 'valid-token-0123456789';
  let server: WebSocketServer;
  let url: string;
  const open = (socketUrl: string, protocol: string) => new WebSocket(socketUrl, protocol) as never;

  beforeAll(async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1', path: '/graphql' });
    await new Promise((resolve) => server.once('listening', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    // As server/websocket.ts: a wrong or missing token closes the socket with 4403.
    useServer(
      {
        schema: buildSchema('type Query { ok: Boolean }'),
        onConnect: (ctx) => ctx.connectionParams?.authorization === `Bearer ${TOKEN}`,
      },
      server,
    );
  });

  afterAll(async () => {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  it('is ok when the query is answered', async () => {
    expect(await probeSocket(TOKEN, url, open)).toEqual({ kind: 'ok' });
  });

  it('asks for a token when the server closes with 4403', async () => {
    expect(await probeSocket(null, url, open)).toEqual({ kind: 'unauthenticated' });
    expect(await probeSocket('wrong-token-000000000', url, open)).toEqual({ kind: 'unauthenticated' });
  });

  it('reports a socket that cannot connect as unreachable (then HTTP is asked)', async () => {
    const result = await probeSocket(null, 'ws://127.0.0.1:9/graphql', open, 2000);
    expect(result.kind).toBe('unreachable');
  });
});
