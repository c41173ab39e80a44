// Nothing lost: faults injected into real processes. Server and worker run as child processes
// (exactly what `npm run server` / `npm run worker` run) against a Redis and a PostgreSQL that
// this file starts itself on free ports, so killing them touches nothing else. The shared
// servers (127.0.0.1:6379 and :5432) are never used here.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed, onTestFinished } from 'vitest';
import { MiB, rssBytes } from '../helpers/memory.ts';
import { TestReceiver } from '../helpers/receiver.ts';
import { PostgresServer, RedisServer } from '../helpers/services.ts';
import { exitReason, freePort, newLogDir, startProcess, stopProcess, waitForReady, waitForWorkerReady } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait.ts';

const TOKEN = `faults-token-${randomBytes(12).toString('hex')}`;
const DELIVERY_TIMEOUT_MS = 2_000;
const BASE_ENV: Record<string, string> = {
  HOST: '127.0.0.1',
  API_TOKENS: TOKEN,
  RETRY_SCHEDULE: '200ms,400ms',
  MAX_ATTEMPTS: '5',
  DELIVERY_TIMEOUT: '2s',
  SWEEP_INTERVAL: '1s',
  ALLOW_PRIVATE_TARGETS: 'true',
  LOG_LEVEL: 'info',
  WORKER_PORT: '0',
};

const logRoot = newLogDir();
let keepLogs = false;
let postgres: PostgresServer;

beforeAll(async () => {
  postgres = await PostgresServer.start(logRoot);
}, 60_000);

afterAll(async () => {
  await postgres?.destroy();
  if (keepLogs) console.error(`faults.test.ts: logs kept in ${logRoot}`);
  else rmSync(logRoot, { recursive: true, force: true });
});

/** Cleanups for one test, run in reverse order when it finishes; its logs are kept if it fails. */
function teardown(): (cleanup: () => unknown) => void {
  const cleanups: (() => unknown)[] = [];
  onTestFailed(() => {
    keepLogs = true;
  });
  onTestFinished(async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error('cleanup failed:', error);
      }
    }
  });
  return (cleanup) => cleanups.push(cleanup);
}

interface EventRow {
  id: string;
  status: string;
  attemptCount: number;
}

interface AttemptRow {
  eventId: string;
  attemptNumber: number;
  success: boolean;
  durationMs: number;
  responseStatus: number | null;
  error: string | null;
}

const alive = (child: ChildProcess | null) => child !== null && child.exitCode === null && child.signalCode === null;

/** One hookd deployment: a database of its own on the file's PostgreSQL, a Redis, a server and a worker. */
class Hookd {
  server: ChildProcess | null = null;
  worker: ChildProcess | null = null;
  private serverStarts = 0;
  private workerStarts = 0;
  readonly pool: pg.Pool;

  private constructor(
    readonly env: Record<string, string>,
    readonly logDir: string,
    readonly url: string,
    /** The worker's /metrics, /health and /ready. */
    readonly workerUrl: string,
  ) {
    this.pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 2, connectionTimeoutMillis: 2_000 });
    // Idle clients see PostgreSQL go away in the PostgreSQL test; that must not crash the test run.
    this.pool.on('error', () => {});
  }

  static async create(name: string, redis: RedisServer, add: (cleanup: () => unknown) => void, overrides: Record<string, string> = {}) {
    const logDir = join(logRoot, name);
    mkdirSync(logDir, { recursive: true });
    const databaseUrl = await postgres.createDatabase(`hookd_${name.replace(/\W/g, '_')}`);
    const port = await freePort();
    const workerPort = await freePort();
    const env = {
      ...BASE_ENV,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      PORT: String(port),
      WORKER_PORT: String(workerPort),
      QUEUE_PREFIX: `hookd-faults-${name}`,
      ...overrides,
    };
    const hookd = new Hookd(env, logDir, `http://127.0.0.1:${port}`, `http://127.0.0.1:${workerPort}`);
    add(() => hookd.stop());
    return hookd;
  }

  /** Starts the server and waits until /ready says PostgreSQL and Redis answer. */
  async startServer(): Promise<ChildProcess> {
    const logFile = join(this.logDir, `server-${++this.serverStarts}.log`);
    const server = startProcess('server/main.ts', this.env, logFile);
    this.server = server;
    await waitForReady(this.url, { process: server, logFile });
    return server;
  }

  /** Starts a worker and waits for its "worker ready". */
  async startWorker(): Promise<ChildProcess> {
    const logFile = join(this.logDir, `worker-${++this.workerStarts}.log`);
    const worker = startProcess('worker/main.ts', this.env, logFile);
    this.worker = worker;
    await waitForWorkerReady(worker, logFile);
    return worker;
  }

  async start(): Promise<this> {
    await Promise.all([this.startServer(), this.startWorker()]);
    return this;
  }

  workerLog(): string {
    return Array.from({ length: this.workerStarts }, (_, i) => readFileSync(join(this.logDir, `worker-${i + 1}.log`), 'utf8')).join('');
  }

  async stop(): Promise<void> {
    await Promise.all([this.server && stopProcess(this.server), this.worker && stopProcess(this.worker)]);
    await this.pool.end().catch(() => {});
  }

  async sql<T = any>(text: string, values: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(text, values)).rows as T[];
  }

  /** A GraphQL request that must not hang: it is given up after 15 s. Returns the body and how long it took. */
  async graphql(query: string, variables: Record<string, unknown> = {}) {
    const started = Date.now();
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await response.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
    return { status: response.status, ...body, ms: Date.now() - started };
  }

  async rest(method: string, path: string, body?: unknown) {
    const started = Date.now();
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text, ms: Date.now() - started };
  }

  async createSubscription(targetUrl: string): Promise<string> {
    const result = await this.graphql(
      `mutation($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) {
        __typename ... on WebhookSubscription { id } ... on Error { message } } }`,
      { input: { targetUrl } },
    );
    const created = result.data?.createWebhookSubscription;
    if (created?.__typename !== 'WebhookSubscription') throw new Error(`could not create a subscription: ${JSON.stringify(result)}`);
    return created.id;
  }

  /** ingestEvent over GraphQL; the raw answer, with its duration. */
  ingestRaw(subscriptionId: string, payload: unknown) {
    return this.graphql(
      `mutation($input: IngestEventInput!) { ingestEvent(input: $input) { __typename ... on Event { id status } ... on Error { message } } }`,
      { input: { subscriptionId, payload } },
    );
  }

  /** ingestEvent that must succeed: the event's id and status, and how long the call took. */
  async ingest(subscriptionId: string, payload: unknown): Promise<{ id: string; status: string; ms: number }> {
    const result = await this.ingestRaw(subscriptionId, payload);
    const event = result.data?.ingestEvent;
    if (event?.__typename !== 'Event') throw new Error(`ingest failed: ${JSON.stringify(result)}`);
    return { id: event.id, status: event.status, ms: result.ms };
  }

  async events(ids: string[]): Promise<EventRow[]> {
    return this.sql<EventRow>(`SELECT id, status, "attemptCount" FROM "Event" WHERE id = ANY($1::uuid[]) ORDER BY id`, [ids]);
  }

  async attempts(ids: string[]): Promise<AttemptRow[]> {
    return this.sql<AttemptRow>(
      `SELECT "eventId", "attemptNumber", success, "durationMs", "responseStatus", error
       FROM "DeliveryAttempt" WHERE "eventId" = ANY($1::uuid[]) ORDER BY "eventId", "attemptNumber"`,
      [ids],
    );
  }

  /** Polls PostgreSQL until every event in `ids` has `status`. */
  async waitForStatus(ids: string[], status: string, timeoutMs = 20_000): Promise<EventRow[]> {
    let last: EventRow[] = [];
    try {
      return await waitFor(
        async () => {
          last = await this.events(ids);
          return last.length === ids.length && last.every((event) => event.status === status) && last;
        },
        { timeoutMs, intervalMs: 100, what: `${ids.length} event(s) to be ${status}` },
      );
    } catch (error) {
      const counts: Record<string, number> = {};
      for (const event of last) counts[event.status] = (counts[event.status] ?? 0) + 1;
      throw new Error(`${(error as Error).message}; last seen: ${JSON.stringify(counts)}; logs in ${this.logDir}`);
    }
  }
}

async function startRedis(name: string, add: (cleanup: () => unknown) => void): Promise<RedisServer> {
  const dir = join(logRoot, name);
  mkdirSync(dir, { recursive: true });
  const redis = await RedisServer.start(dir);
  add(() => redis.stop());
  return redis;
}

async function startReceiver(add: (cleanup: () => unknown) => void): Promise<TestReceiver> {
  const receiver = await TestReceiver.start();
  add(() => receiver.close());
  return receiver;
}

describe('faults: nothing accepted is lost', () => {
  it('worker killed (SIGKILL) mid-delivery: after a restart the event is DELIVERED, seen at most twice with one webhook-id', async () => {
    const add = teardown();
    const redis = await startRedis('worker-kill', add);
    const receiver = await startReceiver(add);
    // The first request is held open until the worker is dead; later ones get 200.
    let held: ServerResponse | null = null;
    receiver.script('/kill', (response) => {
      held = response;
    });
    const hookd = await (await Hookd.create('worker-kill', redis, add)).start();
    const subscriptionId = await hookd.createSubscription(`${receiver.url}/kill`);

    const event = await hookd.ingest(subscriptionId, { fault: 'worker killed mid-delivery' });
    await receiver.waitForRequests(event.id, 1);
    expect(held).not.toBeNull();
    expect((await hookd.events([event.id]))[0]?.status).toBe('DELIVERING');

    hookd.worker!.kill('SIGKILL');
    await waitFor(() => !alive(hookd.worker), { what: 'the worker to die' });
    // The dead worker left the event DELIVERING; the request it made is answered by nobody.
    expect((await hookd.events([event.id]))[0]?.status).toBe('DELIVERING');

    await hookd.startWorker();
    await hookd.waitForStatus([event.id], 'DELIVERED', 40_000);

    const requests = receiver.requests.filter((request) => request.path === '/kill');
    expect(requests.length).toBeGreaterThanOrEqual(1);
    expect(requests.length).toBeLessThanOrEqual(2);
    expect(new Set(requests.map((request) => request.headers['webhook-id']))).toEqual(new Set([event.id]));
    const attempts = await hookd.attempts([event.id]);
    expect(attempts.filter((attempt) => attempt.success)).toHaveLength(1);
  }, 90_000);

  it('Redis restarted empty while events wait for retries: every event still ends DELIVERED, each delivered successfully exactly once', async () => {
    const add = teardown();
    const redis = await startRedis('redis-restart', add);
    const receiver = await startReceiver(add);
    // Fails every event's first try, answers 200 after that.
    receiver.fallback = (response, request) => {
      const first = receiver.requestsFor(request.headers['webhook-id'] as string).length === 1;
      response.writeHead(first ? 500 : 200, { 'content-type': 'text/plain' }).end(first ? 'first try fails' : 'ok');
    };
    // The first retry waits 4 s (not 200 ms), so that every event is still waiting in Redis
    // when Redis goes: the retries can then only come from what PostgreSQL knows.
    const hookd = await (await Hookd.create('redis-restart', redis, add, { RETRY_SCHEDULE: '4s,400ms' })).start();
    const subscriptionId = await hookd.createSubscription(`${receiver.url}/restart`);

    const events = await Promise.all(Array.from({ length: 20 }, (_, i) => hookd.ingest(subscriptionId, { fault: 'redis restarted empty', i })));
    const ids = events.map((event) => event.id);
    await waitFor(
      async () => {
        const rows = await hookd.events(ids);
        return rows.every((row) => row.status === 'RETRYING' && row.attemptCount === 1);
      },
      { timeoutMs: 15_000, intervalMs: 50, what: 'all 20 events to be RETRYING after their first attempt' },
    );

    await redis.kill();
    await redis.start();
    const restartedAt = Date.now();
    // And an event ingested after the restart goes through the same Redis, first try and retry.
    const later = await hookd.ingest(subscriptionId, { fault: 'redis restarted empty', phase: 'after' });

    await hookd.waitForStatus(ids, 'DELIVERED', 25_000);
    for (const id of ids) {
      const requests = receiver.requestsFor(id);
      // One failed first try, one successful retry, made after Redis came back empty.
      expect(requests, `requests for ${id}`).toHaveLength(2);
      expect(requests[1]!.receivedAt).toBeGreaterThan(restartedAt);
    }
    await hookd.waitForStatus([later.id], 'DELIVERED', 15_000);
    expect(receiver.requestsFor(later.id)).toHaveLength(2);
    const attempts = await hookd.attempts(ids);
    for (const id of ids) {
      const mine = attempts.filter((attempt) => attempt.eventId === id);
      expect(mine.filter((attempt) => attempt.success), `successful attempts of ${id}`).toHaveLength(1);
    }
    expect(alive(hookd.worker)).toBe(true);
  }, 90_000);

  it('Redis down while producers ingest: each ingest answers within seconds with PENDING and is in PostgreSQL; all end DELIVERED once Redis is back', async () => {
    const add = teardown();
    const redis = await startRedis('redis-down', add);
    const receiver = await startReceiver(add);
    const hookd = await (await Hookd.create('redis-down', redis, add)).start();
    const subscriptionId = await hookd.createSubscription(`${receiver.url}/down`);

    await redis.kill();
    const [graphqlEvents, restEvent] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, (_, i) => hookd.ingest(subscriptionId, { fault: 'redis down', i }))),
      hookd.rest('POST', `/api/ingest/${subscriptionId}`, { fault: 'redis down', via: 'rest' }),
    ]);
    console.info(`redis down: GraphQL ingest took ${graphqlEvents.map((event) => event.ms).join(', ')} ms; REST ${restEvent.ms} ms`);
    for (const event of graphqlEvents) {
      expect(event.status).toBe('PENDING');
      expect(event.ms, 'GraphQL ingest duration (ms)').toBeLessThan(5_000);
    }
    expect(restEvent.status, restEvent.text).toBe(202);
    expect(restEvent.json.status).toBe('PENDING');
    expect(restEvent.ms, 'REST ingest duration (ms)').toBeLessThan(5_000);
    const ids = [...graphqlEvents.map((event) => event.id), restEvent.json.event_id as string];
    const stored = await hookd.events(ids);
    expect(stored).toHaveLength(11);
    expect(stored.every((event) => event.status === 'PENDING')).toBe(true);
    expect(receiver.requests).toHaveLength(0);

    await redis.start();
    await hookd.waitForStatus(ids, 'DELIVERED', 40_000);
    const attempts = await hookd.attempts(ids);
    for (const id of ids) {
      expect(attempts.filter((attempt) => attempt.eventId === id && attempt.success), `successful attempts of ${id}`).toHaveLength(1);
    }
    expect(alive(hookd.worker)).toBe(true);
    expect(alive(hookd.server)).toBe(true);
  }, 90_000);

  it('PostgreSQL down: ingest answers SERVICE_UNAVAILABLE / 503 at once, /ready 503 (server and worker); the worker keeps in-flight results and records them when PostgreSQL is back', async () => {
    const add = teardown();
    const redis = await startRedis('postgres-down', add);
    const receiver = await startReceiver(add);
    // Three requests are held until PostgreSQL is down, then answered 200.
    const held: ServerResponse[] = [];
    receiver.script('/pg', ...Array.from({ length: 3 }, () => (response: ServerResponse) => void held.push(response)));
    // DELIVERY_TIMEOUT 5 s puts the sweeper's "abandoned DELIVERING" threshold (2×5 s + 1 s)
    // well beyond this outage, so only the worker that holds the results records them.
    const hookd = await (await Hookd.create('postgres-down', redis, add, { DELIVERY_TIMEOUT: '5s' })).start();
    add(async () => {
      if (!postgres.running) await postgres.start();
    });
    const subscriptionId = await hookd.createSubscription(`${receiver.url}/pg`);
    const inFlight = await Promise.all([1, 2, 3].map((i) => hookd.ingest(subscriptionId, { fault: 'postgres down', i })));
    const ids = inFlight.map((event) => event.id);
    await waitFor(() => held.length === 3, { what: 'three deliveries in flight' });

    await postgres.stop('SIGINT');
    const answered = held.map(
      (response) => new Promise<void>((resolve) => response.once('finish', resolve).once('close', resolve)),
    );
    for (const response of held) response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    await Promise.all(answered);
    const releasedAt = Date.now();

    // The API fails fast and says why.
    const viaGraphql = await hookd.ingestRaw(subscriptionId, { fault: 'postgres down', via: 'graphql' });
    expect(viaGraphql.ms, 'GraphQL ingest duration (ms)').toBeLessThan(5_000);
    expect(viaGraphql.data?.ingestEvent ?? null, JSON.stringify(viaGraphql)).toBeNull();
    expect(viaGraphql.errors?.[0]?.extensions?.code, JSON.stringify(viaGraphql.errors)).toBe('SERVICE_UNAVAILABLE');
    const viaRest = await hookd.rest('POST', `/api/ingest/${subscriptionId}`, { fault: 'postgres down', via: 'rest' });
    expect(viaRest.ms, 'REST ingest duration (ms)').toBeLessThan(5_000);
    expect(viaRest.status, viaRest.text).toBe(503);
    const readyStarted = Date.now();
    const ready = await fetch(`${hookd.url}/ready`, { signal: AbortSignal.timeout(15_000) });
    expect(Date.now() - readyStarted, '/ready duration (ms)').toBeLessThan(5_000);
    expect(ready.status).toBe(503);
    const workerReady = await fetch(`${hookd.workerUrl}/ready`, { signal: AbortSignal.timeout(15_000) });
    expect(workerReady.status).toBe(503);
    const workerChecks = await workerReady.json();
    expect(workerChecks.postgres, JSON.stringify(workerChecks)).toMatch(/^unavailable/);
    expect(workerChecks).toMatchObject({ status: 'unavailable', redis: 'ok', jobs: 'ok' });

    // The outage outlasts the worker's first try to record the three answers.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, releasedAt + 1_500 - Date.now())));
    expect(alive(hookd.worker), 'the worker is still running while PostgreSQL is down').toBe(true);
    await postgres.start();

    await hookd.waitForStatus(ids, 'DELIVERED', 30_000);
    const attempts = await hookd.attempts(ids);
    for (const id of ids) {
      const mine = attempts.filter((attempt) => attempt.eventId === id);
      // The answer received while PostgreSQL was down is the one recorded, as attempt 1.
      expect(mine.map((attempt) => [attempt.attemptNumber, attempt.success, attempt.responseStatus]), `attempts of ${id}`).toEqual([[1, true, 200]]);
      expect(receiver.requestsFor(id), `requests for ${id}`).toHaveLength(1);
    }
    expect(alive(hookd.worker), 'the worker did not exit').toBe(true);

    // And the API takes events again.
    await waitFor(async () => (await fetch(`${hookd.url}/ready`)).ok, { timeoutMs: 15_000, intervalMs: 100, what: '/ready after PostgreSQL is back' });
    await waitFor(async () => (await fetch(`${hookd.workerUrl}/ready`)).ok, { timeoutMs: 15_000, intervalMs: 100, what: "the worker's /ready after PostgreSQL is back" });
    const after = await hookd.ingest(subscriptionId, { fault: 'postgres down', phase: 'after' });
    await hookd.waitForStatus([after.id], 'DELIVERED');
  }, 90_000);

  it('SIGTERM to server and worker: the worker finishes in-flight deliveries, takes no new jobs, exits 0; after a restart every accepted event ends DELIVERED', async () => {
    const add = teardown();
    const redis = await startRedis('sigterm', add);
    const receiver = await startReceiver(add);
    // The receiver holds every request until the test answers it, so which deliveries are in
    // flight when SIGTERM lands does not depend on how fast this machine is.
    const held: ServerResponse[] = [];
    receiver.fallback = (response) => void held.push(response);
    const hookd = await (await Hookd.create('sigterm', redis, add, { WORKER_CONCURRENCY: '2', DELIVERY_TIMEOUT: '5s' })).start();
    const subscriptionId = await hookd.createSubscription(`${receiver.url}/slow`);

    const events = await Promise.all(Array.from({ length: 6 }, (_, i) => hookd.ingest(subscriptionId, { fault: 'sigterm', i })));
    const ids = events.map((event) => event.id);
    // Only this test's events count: a request from another file's worker is not this worker's.
    const requestsForOurs = () => ids.flatMap((id) => receiver.requestsFor(id));
    // Both of the worker's slots are busy with a request the receiver holds.
    // At least two, then exactly two: a third would be a failure of its own, and named as one.
    await waitFor(() => held.length >= 2, { what: 'two deliveries in flight', hopeless: () => exitReason(hookd.worker!, hookd.logDir) });
    expect(held, 'requests the receiver holds').toHaveLength(2);
    const inFlight = requestsForOurs().map((request) => request.headers['webhook-id'] as string);
    expect(inFlight).toHaveLength(2);
    const server = hookd.server!;
    const worker = hookd.worker!;
    const exits = Promise.all([stopProcess(server, 'SIGTERM'), stopProcess(worker, 'SIGTERM')]);

    // The worker has taken the signal and still waits for the two answers.
    await waitFor(() => hookd.workerLog().includes('"worker stopping"'), { what: 'the worker to log "worker stopping"' });
    expect(alive(worker), 'the worker waits for its in-flight deliveries').toBe(true);
    // Draining: not ready, so an orchestrator sends it nothing more, though it still serves.
    const draining = await fetch(`${hookd.workerUrl}/ready`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ status: 'unavailable', postgres: 'ok', redis: 'ok', jobs: 'stopping' });
    for (const response of held) response.writeHead(200, { 'content-type': 'text/plain' }).end('slow ok');
    const [serverExit, workerExit] = await exits;

    expect(serverExit).toBe(0);
    expect(workerExit).toBe(0);
    expect(worker.signalCode).toBeNull();
    // It sent nothing new after SIGTERM: the two held requests are all the receiver got.
    expect(held).toHaveLength(2);
    expect(requestsForOurs().map((request) => request.headers['webhook-id'])).toEqual(inFlight);
    const afterStop = await hookd.events(ids);
    const attempts = await hookd.attempts(ids);
    for (const id of inFlight) {
      expect(afterStop.find((event) => event.id === id)?.status, `in-flight event ${id}`).toBe('DELIVERED');
      expect(attempts.filter((attempt) => attempt.eventId === id).map((attempt) => attempt.success)).toEqual([true]);
    }
    for (const event of afterStop.filter((event) => !inFlight.includes(event.id))) {
      expect(event.status, `waiting event ${event.id}`).toBe('PENDING');
      expect(event.attemptCount).toBe(0);
    }

    receiver.fallback = { status: 200, body: 'ok' };
    await hookd.start();
    await hookd.waitForStatus(ids, 'DELIVERED', 30_000);
    for (const id of ids) expect(receiver.requestsFor(id), `requests for ${id}`).toHaveLength(1);
  }, 90_000);

  it('hostile receivers (silent, trickling, 1 GiB body, reset, garbage): each attempt fails cleanly within DELIVERY_TIMEOUT, at most ~64 KiB read, worker RSS flat', async () => {
    const add = teardown();
    const redis = await startRedis('hostile', add);
    const receivers = {
      silent: await hostileReceiver(add, () => {}),
      trickle: await hostileReceiver(add, (socket) => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 1000000\r\n\r\n');
        const timer = setInterval(() => socket.writable && socket.write('x'), 50);
        socket.on('close', () => clearInterval(timer));
      }),
      huge: await hostileReceiver(add, (socket, connection) => {
        socket.write('HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/octet-stream\r\ncontent-length: 1073741824\r\n\r\n');
        const zeros = Buffer.alloc(64 * 1024);
        const pump = () => {
          while (!socket.destroyed && socket.writable) {
            const more = socket.write(zeros, (error) => {
              if (!error) connection.bytesWritten += zeros.length;
            });
            if (!more) {
              socket.once('drain', pump);
              return;
            }
          }
        };
        pump();
      }),
      reset: await hostileReceiver(add, (socket) => void socket.resetAndDestroy()),
      garbage: await hostileReceiver(add, (socket) => void socket.write('SSH-2.0-OpenSSH_9.6\r\nthis is not HTTP {{{ ]]] \r\n\r\n')),
    };
    const expected: Record<keyof typeof receivers, RegExp> = {
      silent: /^timeout after 2000 ms$/,
      trickle: /^timeout after 2000 ms$/,
      huge: /^HTTP 500$/,
      reset: /^connection reset$/,
      // undici: "Response does not match the HTTP/1.1 protocol (…)"; anything naming the protocol will do.
      garbage: /HTTP|protocol|parse/i,
    };
    const hookd = await (await Hookd.create('hostile', redis, add)).start();
    const worker = hookd.worker!;
    const subscriptions = Object.fromEntries(
      await Promise.all(Object.entries(receivers).map(async ([name, receiver]) => [name, await hookd.createSubscription(receiver.url)] as const)),
    ) as Record<keyof typeof receivers, string>;

    // One event to each: the first attempt fails, promptly, and says why.
    const started = Date.now();
    const firsts = await Promise.all(
      (Object.keys(receivers) as (keyof typeof receivers)[]).map(async (name) => {
        const event = await hookd.ingest(subscriptions[name], { hostile: name });
        const attempt = await waitFor(
          async () => (await hookd.attempts([event.id])).find((row) => row.attemptNumber === 1),
          { timeoutMs: 10_000, intervalMs: 50, what: `the first attempt to the ${name} receiver` },
        ).catch((error: Error) => error);
        return { name, event, attempt, seenAfterMs: Date.now() - started };
      }),
    );
    console.info(
      'hostile: first attempts\n' +
        firsts
          .map(({ name, attempt, seenAfterMs }) =>
            attempt instanceof Error
              ? `  ${name}: ${attempt.message}`
              : `  ${name}: error=${JSON.stringify(attempt.error)} status=${attempt.responseStatus} durationMs=${attempt.durationMs} recorded after ${seenAfterMs} ms`,
          )
          .join('\n'),
    );
    for (const { name, attempt, seenAfterMs } of firsts) {
      if (attempt instanceof Error) {
        expect.soft(attempt.message, `${name}: no attempt recorded; logs in ${hookd.logDir}`).toBe('');
        continue;
      }
      expect.soft(attempt.success, `${name}: success`).toBe(false);
      expect.soft(attempt.error ?? '', `${name}: error`).toMatch(expected[name]);
      expect.soft(attempt.durationMs, `${name}: durationMs`).toBeLessThanOrEqual(DELIVERY_TIMEOUT_MS + 1_000);
      expect.soft(seenAfterMs, `${name}: recorded after (ms)`).toBeLessThan(DELIVERY_TIMEOUT_MS + 4_000);
    }

    // A burst of 20 events to the 1 GiB receiver, 5 attempts each: the worker reads ~64 KiB of
    // each answer and closes; its memory does not grow with what the receiver tries to send.
    const rssBefore = rssBytes(worker.pid!);
    const closedBefore = receivers.huge.closed.length;
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => hookd.ingest(subscriptions.huge, { hostile: 'huge', i })));
    await waitFor(() => receivers.huge.closed.length >= closedBefore + 20, {
      timeoutMs: 20_000,
      what: '20 deliveries to the 1 GiB receiver',
    });
    const settled = await hookd.waitForStatus(burst.map((event) => event.id), 'FAILED', 15_000).catch((error: Error) => error);
    if (settled instanceof Error) expect.soft(settled.message, 'the burst to the 1 GiB receiver ends FAILED').toBe('');
    const rssAfter = rssBytes(worker.pid!);
    const maxWritten = Math.max(...receivers.huge.closed.map((connection) => connection.bytesWritten));
    console.info(
      `hostile: worker RSS ${(rssBefore / MiB).toFixed(1)} → ${(rssAfter / MiB).toFixed(1)} MiB; ` +
        `${receivers.huge.closed.length} connections to the 1 GiB receiver, at most ${(maxWritten / MiB).toFixed(2)} MiB written to one`,
    );
    expect.soft(maxWritten, 'bytes the 1 GiB receiver wrote into one connection').toBeLessThan(8 * MiB);
    expect.soft(rssAfter - rssBefore, 'worker RSS growth (bytes)').toBeLessThan(100 * MiB);
    expect(alive(worker), 'the worker is still running').toBe(true);
  }, 90_000);

  it('a stuck DELIVERING event (its worker died long ago) is retried and ends DELIVERED', async () => {
    const add = teardown();
    const redis = await startRedis('stuck', add);
    const receiver = await startReceiver(add);
    const hookd = await Hookd.create('stuck', redis, add);
    const subscriptionId = randomUUID();
    const eventId = randomUUID();
    await hookd.sql(
      `INSERT INTO "WebhookSubscription" (id, name, "targetUrl", secret, "updatedAt") VALUES ($1, 'stuck', $2, $3, now())`,
      [subscriptionId, `${receiver.url}/stuck`, `whsec_${randomBytes(32).toString('base64')}`],
    );
    await hookd.sql(
      `INSERT INTO "Event" (id, "subscriptionId", payload, status, "attemptCount", "createdAt", "updatedAt")
       VALUES ($1, $2, '{"fault":"stuck"}', 'DELIVERING', 0, now() - interval '1 hour', now() - interval '1 hour')`,
      [eventId, subscriptionId],
    );
    await hookd.startWorker();

    await hookd.waitForStatus([eventId], 'DELIVERED', 20_000);
    const requests = receiver.requestsFor(eventId);
    expect(requests).toHaveLength(1);
    expect(JSON.parse(requests[0]!.body)).toEqual({ fault: 'stuck' });
    const attempts = await hookd.attempts([eventId]);
    expect(attempts.map((attempt) => [attempt.attemptNumber, attempt.success])).toEqual([[1, true]]);
  }, 60_000);
});

interface HostileConnection {
  bytesWritten: number;
}

interface HostileReceiver {
  url: string;
  /** Connections that have closed, with what the receiver managed to write into each. */
  closed: HostileConnection[];
}

/**
 * A raw TCP server on loopback that misbehaves as `onRequest` says once a request's first
 * bytes arrive. Sockets are closed and the server stopped when the test ends.
 */
async function hostileReceiver(
  add: (cleanup: () => unknown) => void,
  onRequest: (socket: Socket, connection: HostileConnection) => void,
): Promise<HostileReceiver> {
  const sockets = new Set<Socket>();
  const closed: HostileConnection[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const connection: HostileConnection = { bytesWritten: 0 };
    socket.on('error', () => {});
    socket.once('data', () => onRequest(socket, connection));
    socket.on('close', () => {
      sockets.delete(socket);
      closed.push(connection);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  add(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${port}/hostile`, closed };
}
