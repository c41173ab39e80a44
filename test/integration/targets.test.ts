// Target checks against SSRF, against real processes. The shared stack allows private targets,
// so this file runs its own server and worker processes, on a database and QUEUE_PREFIX of its
// own (the shared worker's sweeper never sees these events). Only loopback is ever contacted.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetLookup, TargetNotAllowedError } from '../../core/targets.ts';
import { stack } from '../helpers/api.ts';
import { TestReceiver } from '../helpers/receiver.ts';
import {
  createTestDatabase,
  deleteRedisKeys,
  dropTestDatabase,
  freePort,
  newLogDir,
  startProcess,
  stopProcess,
  waitForReady,
  waitForWorkerReady,
} from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait.ts';

const CREATE = `mutation($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) {
  __typename ... on ValidationError { message fieldErrors { path message } } ... on WebhookSubscription { id targetUrl } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateWebhookSubscriptionInput!) { updateWebhookSubscription(id: $id, input: $input) {
  __typename ... on ValidationError { message fieldErrors { path message } } ... on Error { message } ... on WebhookSubscription { id targetUrl } } }`;
const INGEST = `mutation($input: IngestEventInput!) { ingestEvent(input: $input) { __typename ... on Event { id } ... on Error { message } } }`;
const EVENT = `query($id: ID!) { event(id: $id) { status attempts { attemptNumber success responseStatus error } } }`;

const HOW_TO_ALLOW = 'set ALLOW_PRIVATE_TARGETS=true or add its network to ALLOWED_TARGET_NETWORKS';

/** GraphQL over HTTP to one of this file's servers. */
async function gql(url: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack().token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as any;
  if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const runId = randomBytes(3).toString('hex');
const databaseName = `hookd_test_targets_${process.pid}_${runId}`;
const queuePrefix = `hookd-test-targets-${process.pid}-${runId}`;
const logDir = newLogDir();
const children: ChildProcess[] = [];
let env: Record<string, string>;
/** ALLOW_PRIVATE_TARGETS=false. */
let strictUrl: string;
/** ALLOW_PRIVATE_TARGETS=false, ALLOWED_TARGET_NETWORKS=127.0.0.0/8. */
let allowlistedUrl: string;
/** ALLOW_PRIVATE_TARGETS=true, enqueueing for this file's worker. */
let openUrl: string;

async function startServer(name: string, extra: Record<string, string>): Promise<string> {
  const port = await freePort();
  const logFile = join(logDir, `${name}.log`);
  const server = startProcess('server/main.ts', { ...env, ...extra, PORT: String(port) }, logFile);
  children.push(server);
  const url = `http://127.0.0.1:${port}`;
  await waitForReady(url, { process: server, logFile });
  return url;
}

beforeAll(async () => {
  const databaseUrl = await createTestDatabase(databaseName);
  env = { ...stack().env, DATABASE_URL: databaseUrl, QUEUE_PREFIX: queuePrefix, MAX_ATTEMPTS: '1', ALLOWED_TARGET_NETWORKS: '' };
  // The worker refuses private targets; it takes this file's jobs only.
  const worker = startProcess('worker/main.ts', { ...env, ALLOW_PRIVATE_TARGETS: 'false' }, join(logDir, 'worker.log'));
  children.push(worker);
  [strictUrl, allowlistedUrl, openUrl] = await Promise.all([
    startServer('strict-server', { ALLOW_PRIVATE_TARGETS: 'false' }),
    startServer('allowlisted-server', { ALLOW_PRIVATE_TARGETS: 'false', ALLOWED_TARGET_NETWORKS: '127.0.0.0/8' }),
    startServer('open-server', { ALLOW_PRIVATE_TARGETS: 'true' }),
  ]);
  await waitForWorkerReady(worker, join(logDir, 'worker.log'));
});

afterAll(async () => {
  await Promise.all(children.map((child) => stopProcess(child)));
  await dropTestDatabase(databaseName);
  await deleteRedisKeys(queuePrefix);
});

const REFUSED: [string, RegExp][] = [
  ['http://127.0.0.1:1/x', /^points to 127\.0\.0\.1, a loopback address; /],
  ['http://[::1]/', /^points to ::1, a loopback address; /],
  ['http://169.254.169.254/latest/meta-data', /^points to 169\.254\.169\.254, a cloud metadata address; /],
  ['http://[::ffff:127.0.0.1]/', /^points to ::ffff:127\.0\.0\.1, an IPv4-mapped loopback address; /],
  ['http://2130706433/', /^points to 127\.0\.0\.1, a loopback address; /],
  ['http://0x7f000001/', /^points to 127\.0\.0\.1, a loopback address; /],
  ['http://0177.0.0.1/', /^points to 127\.0\.0\.1, a loopback address; /],
  ['http://127.1/', /^points to 127\.0\.0\.1, a loopback address; /],
  ['http://[64:ff9b::10.0.0.1]/', /^points to 64:ff9b::a00:1, a private address 10\.0\.0\.1 embedded in NAT64/],
  ['http://10.1.2.3/', /^points to 10\.1\.2\.3, a private address; /],
  ['http://[fd00:ec2::254]/', /^points to fd00:ec2::254, a cloud metadata address; /],
  ['http://0.0.0.0:8080/', /^points to 0\.0\.0\.0, an unspecified address; /],
  ['http://localhost/', /^resolves to (127\.0\.0\.1|::1), a loopback address; /],
];

describe('create and update refuse internal targets', () => {
  it.each(REFUSED)('createWebhookSubscription refuses %s with a ValidationError on targetUrl', async (targetUrl, reason) => {
    const name = `refused-${randomBytes(4).toString('hex')}`;
    const result = (await gql(strictUrl, CREATE, { input: { targetUrl, name } })).createWebhookSubscription;
    expect(result.__typename).toBe('ValidationError');
    expect(result.fieldErrors).toHaveLength(1);
    expect(result.fieldErrors[0].path).toEqual(['targetUrl']);
    expect(result.fieldErrors[0].message).toMatch(reason);
    expect(result.fieldErrors[0].message).toContain(HOW_TO_ALLOW);
    expect(result.message).toContain('targetUrl: ');
  });

  it('reports the target together with the other bad fields', async () => {
    const result = (await gql(strictUrl, CREATE, { input: { targetUrl: 'http://127.0.0.1:1/x', eventTypes: [''], secret: 'x' } }))
      .createWebhookSubscription;
    expect(result.__typename).toBe('ValidationError');
    expect(result.fieldErrors.map((fieldError: any) => fieldError.path.join('.')).sort()).toEqual(['eventTypes.0', 'secret', 'targetUrl']);
  });

  it('gives the usual message, without resolving, to a URL that is not one', async () => {
    const result = (await gql(strictUrl, CREATE, { input: { targetUrl: 'ftp://localhost/x' } })).createWebhookSubscription;
    expect(result.fieldErrors).toEqual([{ path: ['targetUrl'], message: 'must be an absolute http or https URL' }]);
  });

  it('refuses over REST too', async () => {
    const response = await fetch(`${strictUrl}/api/subscriptions/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack().token}` },
      body: JSON.stringify({ target_url: 'http://169.254.169.254/latest/meta-data' }),
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toMatch(/cloud metadata address/);
  });

  it('accepts a loopback target where ALLOWED_TARGET_NETWORKS opens 127.0.0.0/8, and only there', async () => {
    const created = (await gql(allowlistedUrl, CREATE, { input: { targetUrl: 'http://127.0.0.1:1/x' } })).createWebhookSubscription;
    expect(created).toMatchObject({ __typename: 'WebhookSubscription', targetUrl: 'http://127.0.0.1:1/x' });
    for (const targetUrl of ['http://2130706433/', 'http://[::ffff:127.0.0.1]/']) {
      expect((await gql(allowlistedUrl, CREATE, { input: { targetUrl } })).createWebhookSubscription.__typename).toBe('WebhookSubscription');
    }
    for (const targetUrl of ['http://[::1]/', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.1/']) {
      expect((await gql(allowlistedUrl, CREATE, { input: { targetUrl } })).createWebhookSubscription.__typename).toBe('ValidationError');
    }
  });

  it.each(REFUSED)('updateWebhookSubscription refuses %s and leaves the subscription as it was', async (targetUrl, reason) => {
    const created = (await gql(allowlistedUrl, CREATE, { input: { targetUrl: 'http://127.0.0.1:9/kept', name: 'kept' } }))
      .createWebhookSubscription;
    const result = (await gql(strictUrl, UPDATE, { id: created.id, input: { targetUrl, name: 'changed' } })).updateWebhookSubscription;
    expect(result.__typename).toBe('ValidationError');
    expect(result.fieldErrors).toHaveLength(1);
    expect(result.fieldErrors[0].path).toEqual(['targetUrl']);
    expect(result.fieldErrors[0].message).toMatch(reason);
    const query = `query($id: ID!) { webhookSubscription(id: $id) { targetUrl name } }`;
    expect((await gql(strictUrl, query, { id: created.id })).webhookSubscription).toEqual({ targetUrl: 'http://127.0.0.1:9/kept', name: 'kept' });
  });

  it('update checks nothing when the targetUrl is not changed', async () => {
    const created = (await gql(allowlistedUrl, CREATE, { input: { targetUrl: 'http://127.0.0.1:9/kept' } })).createWebhookSubscription;
    const result = (await gql(strictUrl, UPDATE, { id: created.id, input: { name: 'renamed' } })).updateWebhookSubscription;
    expect(result.__typename).toBe('WebhookSubscription');
  });
});

describe('the connect-time lookup, through a real undici Agent', () => {
  let server: Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((_request, response) => {
      hits++;
      response.end('reached');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function post(url: string, agentOptions: ConstructorParameters<typeof Agent>[0]): Promise<{ status?: number; error?: Error }> {
    const agent = new Agent(agentOptions);
    try {
      const response = await request(url, { method: 'POST', body: '{}', dispatcher: agent });
      await response.body.text();
      return { status: response.statusCode };
    } catch (error) {
      return { error: error as Error };
    } finally {
      await agent.close();
    }
  }

  const strict = { allowPrivateTargets: false, allowedTargetNetworks: [] };
  const loopbackAllowed = { allowPrivateTargets: false, allowedTargetNetworks: ['127.0.0.0/8', '::1/128'] };

  it.each([
    ['autoSelectFamily (lookup with { all: true })', {}],
    ['one address (lookup without all)', { autoSelectFamily: false }],
  ])('refuses a host name resolving to loopback, %s, before any byte is sent', async (_what, extra) => {
    const before = hits;
    const { status, error } = await post(`http://localhost:${port}/`, {
      ...extra,
      connect: { timeout: 2_000, lookup: createTargetLookup(strict) },
    });
    expect(status).toBeUndefined();
    expect(error).toBeInstanceOf(TargetNotAllowedError);
    expect(error!.message).toMatch(/^target address not allowed: (127\.0\.0\.1|::1) \(loopback address\)$/);
    expect(hits).toBe(before);
  });

  it('refuses https the same way (tls.connect looks up through it too)', async () => {
    const { error } = await post(`https://localhost:${port}/`, { connect: { timeout: 2_000, lookup: createTargetLookup(strict) } });
    expect(error?.message).toMatch(/^target address not allowed: /);
  });

  it.each([
    ['ALLOWED_TARGET_NETWORKS', loopbackAllowed],
    ['ALLOW_PRIVATE_TARGETS', { allowPrivateTargets: true, allowedTargetNetworks: [] }],
  ])('connects when %s allows it', async (_what, config) => {
    const before = hits;
    const { status, error } = await post(`http://localhost:${port}/`, { connect: { timeout: 2_000, lookup: createTargetLookup(config) } });
    expect(error).toBeUndefined();
    expect(status).toBe(200);
    expect(hits).toBe(before + 1);
  });

  it('is never asked about an IP-literal host, which is why the worker checks the URL itself', async () => {
    const { status } = await post(`http://127.0.0.1:${port}/`, { connect: { timeout: 2_000, lookup: createTargetLookup(strict) } });
    expect(status).toBe(200);
  });
});

// Needs core/delivery.ts wired: createDispatcher passing createTargetLookup(config) as
// connect.lookup (the `localhost` case), and the worker refusing IP-literal targets before
// sending with a `target address not allowed: …` error (the 127.0.0.1 case).
describe('the worker refuses at connect time what the server let through', () => {
  const receiver = TestReceiver.forFile();

  it.each([
    ['an IP-literal target', () => `${receiver.url}/literal`],
    ['a host name resolving to loopback', () => `${receiver.url.replace('127.0.0.1', 'localhost')}/named`],
  ])('records %s as a failed attempt, target address not allowed, and the receiver gets nothing', async (_what, target) => {
    const targetUrl = target();
    const subscription = (await gql(openUrl, CREATE, { input: { targetUrl } })).createWebhookSubscription;
    expect(subscription.__typename).toBe('WebhookSubscription');
    const event = (await gql(openUrl, INGEST, { input: { subscriptionId: subscription.id, payload: { ssrf: true } } })).ingestEvent;
    expect(event.__typename).toBe('Event');
    let last: any;
    const attempt = await waitFor(
      async () => {
        last = (await gql(openUrl, EVENT, { id: event.id })).event;
        return last.attempts.find((found: any) => found.attemptNumber === 1);
      },
      { timeoutMs: 15_000, intervalMs: 100, what: `the first attempt of ${event.id}` },
    ).catch((error) => {
      throw new Error(`${(error as Error).message}; last seen ${JSON.stringify(last)}; worker log in ${logDir}`);
    });
    expect(attempt, `receiver got ${receiver.requestsFor(event.id).length} requests`).toMatchObject({ success: false, responseStatus: null });
    expect(attempt.error).toMatch(/^target address not allowed: (127\.0\.0\.1|::1) \(loopback address\)/);
    expect(receiver.requestsFor(event.id)).toHaveLength(0);
  });
});
