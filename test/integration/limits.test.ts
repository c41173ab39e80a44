// Limits on what one request may ask (server/limits.ts): a hostile operation gets a clear
// GraphQL error naming the limit, an oversized body a 413, and the server carries on; the
// dashboard's own operations pass with room to spare; introspection follows GRAPHQL_INTROSPECTION.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { formatDocument } from '@urql/core';
import { getIntrospectionQuery, print, type DocumentNode } from 'graphql';
import { createClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { graphql, rest, stack } from '../helpers/api.ts';
import { ROOT, freePort, newLogDir, startProcess, stopProcess } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait.ts';
import { LIMIT_ERROR_CODE, MAX_ALIASES, MAX_COST, MAX_DEPTH, MAX_TOKENS, maxRequestBodyBytes } from '../../server/limits.ts';

const limitErrors = (result: { errors?: { message: string; extensions?: Record<string, unknown> }[] }) =>
  (result.errors ?? []).filter((error) => error.extensions?.code === LIMIT_ERROR_CODE);

/** `webhookSubscription(id) { lastAttempt { event { subscription { … id } } } }`, `depth` fields deep. */
function queryOfDepth(depth: number): string {
  const path = ['lastAttempt', 'event', 'subscription'];
  let selection = 'id';
  for (let level = depth - 1; level >= 2; level--) selection = `${path[(level - 2) % 3]} { ${selection} }`;
  return `{ webhookSubscription(id: "${randomUUID()}") { ${selection} } }`;
}

function queryWithAliases(count: number): string {
  const fields = Array.from({ length: count }, (_, index) => `a${index}: webhookSubscription(id: "${randomUUID()}") { id }`);
  return `{ ${fields.join(' ')} }`;
}

/**
 * The first thing a graphql-ws subscription answers within `ms`: its errors (refused at
 * validation, or at execution, which comes as a `next` payload), or null when it just waits.
 */
async function firstWsAnswer(query: string, variables: Record<string, unknown> = {}, ms = 2_000): Promise<unknown[] | null> {
  const client = createClient({
    url: `${stack().url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${stack().token}` },
    retryAttempts: 0,
  });
  let unsubscribe = () => {};
  try {
    return await new Promise<unknown[] | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), ms);
      const settle = (value: unknown[] | null) => {
        clearTimeout(timer);
        resolve(value);
      };
      unsubscribe = client.subscribe(
        { query, variables },
        {
          next: (value) => settle([...(value.errors ?? []), ...(value.data ? [{ unexpectedData: value.data }] : [])]),
          error: (error) => settle(Array.isArray(error) ? error : [error]),
          complete: () => settle([]),
        },
      );
    });
  } finally {
    unsubscribe();
    await client.dispose();
  }
}

const NESTED_CONNECTIONS = `webhookSubscriptions(first: $outer) { edges { node { events(first: $inner) { edges { node { id status } } } } } }`;

describe('GraphQL limits', () => {
  it(`refuses a query deeper than ${MAX_DEPTH} fields, and answers one exactly that deep`, async () => {
    const atLimit = await graphql(queryOfDepth(MAX_DEPTH));
    expect(atLimit.errors).toBeUndefined();
    expect(atLimit.data).toEqual({ webhookSubscription: null });

    const tooDeep = await graphql(queryOfDepth(MAX_DEPTH + 1));
    expect(tooDeep.data).toBeUndefined();
    expect(limitErrors(tooDeep).map((error) => error.message)).toEqual([`Query depth limit of ${MAX_DEPTH} exceeded, found ${MAX_DEPTH + 1}.`]);
  });

  it('counts depth through fragments as the fields they hold', async () => {
    const result = await graphql(`query { ...Q } fragment Q on Query { webhookSubscription(id: "${randomUUID()}") { ...S } }
      fragment S on WebhookSubscription { lastAttempt { event { subscription { lastAttempt { event { subscription { lastAttempt { event { subscription { lastAttempt { id } } } } } } } } } } }`);
    expect(limitErrors(result)[0]?.message).toMatch(new RegExp(`^Query depth limit of ${MAX_DEPTH} exceeded, found 12\\.$`));
  });

  it(`refuses more than ${MAX_ALIASES} aliases`, async () => {
    const atLimit = await graphql(queryWithAliases(MAX_ALIASES));
    expect(atLimit.errors).toBeUndefined();

    const tooMany = await graphql(queryWithAliases(MAX_ALIASES + 1));
    expect(tooMany.data).toBeUndefined();
    expect(limitErrors(tooMany).map((error) => error.message)).toEqual([`Aliases limit of ${MAX_ALIASES} exceeded, found ${MAX_ALIASES + 1}.`]);
  });

  it(`refuses an operation costing more than ${MAX_COST}, page sizes given as literals`, async () => {
    const result = await graphql(`{ ${NESTED_CONNECTIONS.replace('$outer', '100').replace('$inner', '100')} }`);
    expect(result.data).toBeUndefined();
    expect(limitErrors(result)[0]?.message).toMatch(new RegExp(`^Query Cost limit of ${MAX_COST} exceeded, found \\d+(\\.\\d+)?\\.$`));
  });

  it('refuses it with page sizes given as variables, before running any resolver, and answers it with small pages', async () => {
    const query = `query($outer: Int, $inner: Int) { ${NESTED_CONNECTIONS} }`;
    const costly = await graphql(query, { outer: 100, inner: 100 });
    expect(costly.data).toBeUndefined();
    expect(limitErrors(costly)[0]?.message).toMatch(/^Query Cost limit of \d+ exceeded, found/);

    const cheap = await graphql(query, { outer: 5, inner: 5 });
    expect(cheap.errors).toBeUndefined();
    expect(cheap.data?.webhookSubscriptions.edges).toBeInstanceOf(Array);
  });

  it('counts a connection without first/last at its default page size', async () => {
    // Two nested default pages: 20 × 20 events, each with its attempts.
    const result = await graphql(
      `{ webhookSubscriptions { edges { node { events { edges { node { id status eventType payload createdAt attempts { id success error event { id } } } } } } } } }`,
    );
    expect(result.data).toBeUndefined();
    expect(limitErrors(result)[0]?.message).toMatch(/^Query Cost limit of \d+ exceeded/);
  });

  it(`refuses a document of more than ${MAX_TOKENS} tokens`, async () => {
    const result = await graphql(`{ ${'__typename '.repeat(MAX_TOKENS)} }`);
    expect(result.data).toBeUndefined();
    expect(limitErrors(result).map((error) => error.message)).toEqual([`Token limit of ${MAX_TOKENS} exceeded.`]);
  });

  it('explains why it stops checking an operation that repeats a field too often', async () => {
    // Few enough tokens; graphql-js gives up comparing the 2,000 fields with one another.
    const result = await graphql(`{ ${'__typename '.repeat(2_000)} }`);
    expect(result.data).toBeUndefined();
    expect(limitErrors(result)[0]?.message).toMatch(/^Validation aborted: the operation repeats too many fields/);
  });

  it('keeps batching off: a JSON array of operations is a 400', async () => {
    const response = await fetch(`${stack().url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack().token}` },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.errors[0].message).toBe('Batching is not supported.');
  });

  it('applies the limits to subscriptions over graphql-ws too', async () => {
    const deep = await firstWsAnswer(
      `subscription { eventsUpdated { subscription { lastAttempt { event { subscription { lastAttempt { event { subscription { lastAttempt { event { id } } } } } } } } } } }`,
    );
    expect(JSON.stringify(deep)).toMatch(new RegExp(`Query depth limit of ${MAX_DEPTH} exceeded, found 11`));
    // Of a subscription with no events, so that other files' events cannot answer it.
    const costlyQuery = `subscription($n: Int, $id: ID) { eventsUpdated(subscriptionId: $id) { subscription { events(first: $n) { edges { node { subscription { events(first: $n) { edges { node { id } } } } } } } } } }`;
    expect(JSON.stringify(await firstWsAnswer(costlyQuery, { n: 100, id: randomUUID() }))).toMatch(/Query Cost limit of \d+ exceeded/);
    // The same with small pages is accepted, and waits for events.
    expect(await firstWsAnswer(costlyQuery, { n: 2, id: randomUUID() }, 500)).toBeNull();
  });

  it('allows introspection with the default configuration, the whole GraphiQL query within the limits', async () => {
    const result = await graphql(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true }));
    expect(result.errors).toBeUndefined();
    expect(result.data.__schema.queryType.name).toBe('Query');
  });
});

describe("the dashboard's own operations pass the limits", async () => {
  // Loaded at run time: web/ has a type-check of its own (tsc -p web).
  const documentsPath = join(ROOT, 'web/src/documents.ts');
  const documents = Object.entries((await import(documentsPath)) as Record<string, DocumentNode>)
    .filter(([, document]) => document?.definitions?.some((definition) => definition.kind === 'OperationDefinition'))
    .map(([name, document]) => {
      // As urql sends it: __typename added to every selection.
      const formatted = formatDocument(document);
      const operation = formatted.definitions.find((definition) => definition.kind === 'OperationDefinition')!;
      return { name, query: print(formatted), kind: operation.kind === 'OperationDefinition' ? operation.operation : 'query' };
    });

  it('finds them', () => {
    expect(documents.map((document) => document.name)).toEqual(expect.arrayContaining(['SubscriptionsQuery', 'SubscriptionAttemptsQuery', 'EventQuery']));
  });

  it.each(documents.filter((document) => document.kind !== 'subscription'))('$name, with the largest page size', async ({ query }) => {
    // Largest pages; unknown ids. Mutations go without their input: refused at variables, after the limits passed.
    const result = await graphql(query, { first: 100, id: randomUUID() });
    expect(limitErrors(result)).toEqual([]);
  });

  it.each(documents.filter((document) => document.kind === 'subscription'))('$name, over graphql-ws', async ({ query }) => {
    // A refusal comes at once; an accepted subscription waits for events (an unknown id has none).
    expect(await firstWsAnswer(query, { id: randomUUID(), subscriptionId: randomUUID() }, 500)).toBeNull();
  });
});

describe('request body size', () => {
  const limit = maxRequestBodyBytes({ maxPayloadBytes: Number(stack().env.MAX_PAYLOAD_BYTES) });
  const INGEST = `mutation($input: IngestEventInput!) { ingestEvent(input: $input) { __typename ... on Error { message } } }`;
  /** A GraphQL request body of exactly `size` bytes. */
  const bodyOfSize = (size: number) => {
    const empty = JSON.stringify({ query: INGEST, variables: { input: { subscriptionId: randomUUID(), payload: '' } } });
    return JSON.stringify({ query: INGEST, variables: { input: { subscriptionId: randomUUID(), payload: 'x'.repeat(size - empty.length) } } });
  };
  const post = (body: BodyInit, init: RequestInit = {}) =>
    fetch(`${stack().url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack().token}` },
      body,
      ...init,
    });

  it('answers a GraphQL body over 2 × MAX_PAYLOAD_BYTES + 64 KiB with 413', async () => {
    const response = await post(bodyOfSize(limit + 1));
    expect(response.status).toBe(413);
    const body = await response.json();
    expect(body.errors[0]).toEqual({ message: `Request body is larger than ${limit} bytes (2 × MAX_PAYLOAD_BYTES + 64 KiB)`, extensions: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('answers a chunked body (no Content-Length) over the limit with 413 as well', async () => {
    const bytes = new TextEncoder().encode(bodyOfSize(limit + 1));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let offset = 0; offset < bytes.length; offset += 16_384) controller.enqueue(bytes.subarray(offset, offset + 16_384));
        controller.close();
      },
    });
    const response = await post(stream, { duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
    expect((await response.json()).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('reads a body at the limit, chunked or not', async () => {
    const text = bodyOfSize(limit);
    expect(Buffer.byteLength(text)).toBe(limit);
    for (const body of [text, new Blob([text]).stream()]) {
      const response = await post(body as BodyInit, { duplex: 'half' } as RequestInit);
      expect(response.status).toBe(200);
      // Read, and refused for what it says: the payload is over MAX_PAYLOAD_BYTES.
      expect((await response.json()).data.ingestEvent.__typename).toBe('ValidationError');
    }
  });

  it('answers REST bodies over their limits with 413 too', async () => {
    const huge = await rest('POST', `/api/ingest/${randomUUID()}/`, 'x'.repeat(limit + 1));
    expect(huge.status).toBe(413);
    expect(huge.json.error).toMatch(/larger than/);
    const subscription = await rest('POST', '/api/subscriptions/', JSON.stringify({ target_url: 'http://127.0.0.1:9/x', name: 'n'.repeat(70_000) }));
    expect(subscription.status).toBe(413);
    expect(subscription.json.error).toMatch(/larger than 65536 bytes/);
  });

  it('still answers normally afterwards', async () => {
    expect((await fetch(`${stack().url}/health`)).status).toBe(200);
    expect((await graphql('{ __typename }')).data).toEqual({ __typename: 'Query' });
    expect(limitErrors(await graphql(queryOfDepth(3)))).toEqual([]);
  });
});

describe('with GRAPHQL_INTROSPECTION=false', () => {
  it('refuses __schema and __type, and hints at no field names, while ordinary queries work', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = startProcess('server/main.ts', { ...stack().env, PORT: String(port), GRAPHQL_INTROSPECTION: 'false' }, join(newLogDir(), 'server.log'));
    const call = async (query: string) => {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack().token}` },
        body: JSON.stringify({ query }),
      });
      return (await response.json()) as { data?: any; errors?: { message: string }[] };
    };
    try {
      await waitFor(async () => (await fetch(`${url}/health`)).ok, { timeoutMs: 20_000, what: 'the server to listen' });
      const schema = await call(getIntrospectionQuery());
      expect(schema.data).toBeUndefined();
      expect(schema.errors?.[0]?.message).toBe('GraphQL introspection has been disabled, but the requested query contained the field "__schema".');
      const type = await call('{ __type(name: "Query") { name } }');
      expect(type.errors?.[0]?.message).toMatch(/introspection has been disabled.*"__type"/);

      const typo = await call('{ webhookSubscriptionz { id } }');
      expect(typo.errors?.[0]?.message).toBe('Cannot query field "webhookSubscriptionz" on type "Query".');

      expect((await call('{ __typename webhookSubscriptions(first: 1) { edges { cursor } } }')).errors).toBeUndefined();
    } finally {
      await stopProcess(server);
    }
  });
});
