// A small client for the running hookd: GraphQL over HTTP with the test token.
import { waitFor } from './wait.ts';
import { inject } from 'vitest';

export const stack = () => inject('stack');

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export async function graphql<T = any>(
  query: string,
  variables: Record<string, unknown> = {},
  { token = stack().token as string | null } = {},
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${stack().url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { status: response.status, ...((await response.json()) as object) };
}

/** The data of a query that must succeed; fails with the query and the errors otherwise. */
export async function gqlData<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const result = await graphql<T>(query, variables);
  if (result.errors?.length || !result.data) {
    throw new Error(`GraphQL errors for\n${query}\n${JSON.stringify(variables)}\n→ ${JSON.stringify(result.errors)}`);
  }
  return result.data;
}

export async function rest(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack().url}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack().token}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

export const EVENT_FIELDS = `id status attemptCount eventType payload idempotencyKey nextAttemptAt createdAt updatedAt deliveredAt
  subscription { id }
  attempts { id attemptNumber attemptedAt durationMs success responseStatus responseBody error nextAttemptAt }`;

export async function createSubscription(input: Record<string, unknown>): Promise<{ id: string; secret: string; [key: string]: any }> {
  const data = await gqlData(
    `mutation($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) {
      __typename ... on WebhookSubscription { id name targetUrl eventTypes status secret createdAt updatedAt }
      ... on ValidationError { message } } }`,
    { input },
  );
  const result = data.createWebhookSubscription;
  if (result.__typename !== 'WebhookSubscription') throw new Error(`could not create subscription: ${result.message}`);
  return result;
}

export async function ingest(input: Record<string, unknown>): Promise<any> {
  const data = await gqlData(
    `mutation($input: IngestEventInput!) { ingestEvent(input: $input) { __typename ... on Event { ${EVENT_FIELDS} } ... on Error { message } } }`,
    { input },
  );
  if (data.ingestEvent.__typename !== 'Event') throw new Error(`ingest failed: ${data.ingestEvent.message}`);
  return data.ingestEvent;
}

export async function getEvent(id: string): Promise<any> {
  return (await gqlData(`query($id: ID!) { event(id: $id) { ${EVENT_FIELDS} } }`, { id })).event;
}

export async function updateSubscription(id: string, input: Record<string, unknown>): Promise<any> {
  const data = await gqlData(
    `mutation($id: ID!, $input: UpdateWebhookSubscriptionInput!) { updateWebhookSubscription(id: $id, input: $input) {
      __typename ... on WebhookSubscription { id status eventTypes targetUrl name updatedAt } ... on Error { message } } }`,
    { id, input },
  );
  return data.updateWebhookSubscription;
}

/** Polls the API until the event has `status`; returns it. */
export async function waitForEventStatus(id: string, status: string, timeoutMs = 10_000): Promise<any> {
  let last: any;
  try {
    return await waitFor(
      async () => {
        last = await getEvent(id);
        return last?.status === status && last;
      },
      { timeoutMs, intervalMs: 50, what: `event ${id} to be ${status}` },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last seen: ${JSON.stringify(last)}`);
  }
}
