// The benchmark's own hookd: a database and QUEUE_PREFIX of its own, the receiver, server and
// worker as separate processes (started as the integration tests start them), and clients for
// all of them. Everything is removed again by close(), which main.ts calls in a finally.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Pool } from 'undici';
import {
  REDIS_URL,
  createTestDatabase,
  deleteRedisKeys,
  dropTestDatabase,
  exitReason,
  freePort,
  startProcess,
  stopProcess,
  waitForReady,
} from '../../test/helpers/stack.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { nowMs, type Buckets } from './stats.ts';

export interface GraphQLResult<T = any> {
  status: number;
  data?: T;
  errors?: { message: string }[];
  /** Round trip, milliseconds. */
  ms: number;
}

/** GraphQL over HTTP with keep-alive connections to one server and a bearer token. */
export class GraphQLClient {
  readonly pool: Pool;

  constructor(
    readonly url: string,
    private readonly token: string,
    connections = 128,
  ) {
    this.pool = new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  }

  async request<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResult<T>> {
    const started = nowMs();
    const response = await this.pool.request({
      path: '/graphql',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.body.json()) as { data?: T; errors?: { message: string }[] };
    return { status: response.statusCode, ...body, ms: nowMs() - started };
  }

  /** The data of an operation that must succeed. */
  async data<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const result = await this.request<T>(query, variables);
    if (result.errors?.length || !result.data) throw new Error(`GraphQL ${result.status}: ${JSON.stringify(result.errors)} for ${query.slice(0, 120)}`);
    return result.data;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export interface ReceiverCounts {
  requests: number;
  ok: number;
  failed: number;
  delivered: number;
  seen: number;
  duplicates: number;
  firstArrival: number | null;
  lastArrival: number | null;
  lastDelivered: number | null;
  latency?: { count: number; mean: number | null; p50: number | null; p90: number | null; p99: number | null; max: number | null };
}

export class ReceiverClient {
  private readonly pool: Pool;

  constructor(readonly url: string) {
    this.pool = new Pool(url, { connections: 4 });
  }

  async stats(tag: string, { latency = false } = {}): Promise<ReceiverCounts> {
    const response = await this.pool.request({ path: `/stats?tag=${encodeURIComponent(tag)}${latency ? '&latency=1' : ''}`, method: 'GET' });
    return (await response.body.json()) as ReceiverCounts;
  }

  async reset(failFraction = 0): Promise<void> {
    const response = await this.pool.request({ path: '/reset', method: 'POST', body: JSON.stringify({ failFraction }) });
    await response.body.dump();
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export interface BenchStack {
  runId: string;
  databaseName: string;
  databaseUrl: string;
  queuePrefix: string;
  token: string;
  serverUrl: string;
  workerUrl: string;
  receiverUrl: string;
  logDir: string;
  env: Record<string, string>;
  server: ChildProcess;
  worker: ChildProcess;
  receiverProcess: ChildProcess;
  /** SQL on the bench database, for seeding and EXPLAIN. */
  sql: pg.Pool;
  gql: GraphQLClient;
  receiver: ReceiverClient;
  /** Worker's delivery concurrency (WORKER_CONCURRENCY or hookd's default). */
  workerConcurrency: number;
  close(): Promise<void>;
}

/** Starts a child that prints `{"port":N}` first on stdout, and resolves with the port. */
async function startWithPort(entry: string, logFile: string): Promise<{ child: ChildProcess; port: number }> {
  const child = startProcess(entry, {}, logFile);
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`${entry} printed no port within 20 s; log: ${logFile}`)), 20_000);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const match = /\{"port":(\d+)\}/.exec(buffer);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${entry} exited ${code}; log: ${logFile}`)));
  });
  return { child, port };
}

export interface StackOptions {
  /** A receiver already running (another stack's): this stack delivers to it and leaves it running. */
  receiver?: { url: string; process: ChildProcess };
  /** Where the processes' logs go (default: a new temporary directory). */
  logDir?: string;
}

export async function startBenchStack(log: (message: string) => void, options: StackOptions = {}): Promise<BenchStack> {
  const runId = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const databaseName = `hookd_bench_${runId}`;
  const queuePrefix = `hookd-bench-${runId}`;
  const token = `bench-token-${randomBytes(12).toString('hex')}`;
  const logDir = options.logDir ?? mkdtempSync(join(tmpdir(), 'hookd-bench-'));
  mkdirSync(logDir, { recursive: true });
  const cleanups: (() => Promise<unknown>)[] = [];
  const closeAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => log(`cleanup: ${(error as Error).message}`));
    cleanups.length = 0;
  };
  try {
    cleanups.push(() => deleteRedisKeys(queuePrefix));
    cleanups.push(() => dropTestDatabase(databaseName));
    const databaseUrl = await createTestDatabase(databaseName);
    let receiverProcess = options.receiver?.process;
    let receiverUrl = options.receiver?.url;
    if (!receiverProcess || !receiverUrl) {
      const started = await startWithPort('bench/receiver.ts', join(logDir, 'receiver.log'));
      cleanups.push(() => stopProcess(started.child));
      receiverProcess = started.child;
      receiverUrl = `http://127.0.0.1:${started.port}`;
    }

    const port = await freePort();
    const workerPort = await freePort();
    const workerConcurrency = Number(process.env.WORKER_CONCURRENCY ?? 50);
    // hookd's production defaults, except what the benchmark must set. RETRY_SCHEDULE is short
    // so that the retries stage sees its retries within its window.
    const env: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      QUEUE_PREFIX: queuePrefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      WORKER_PORT: String(workerPort),
      ALLOW_PRIVATE_TARGETS: 'true',
      API_TOKENS: token,
      LOG_LEVEL: 'warn',
      RETRY_SCHEDULE: process.env.RETRY_SCHEDULE ?? '1s',
    };
    const server = startProcess('server/main.ts', env, join(logDir, 'server.log'));
    cleanups.push(() => stopProcess(server));
    const worker = startProcess('worker/main.ts', env, join(logDir, 'worker.log'));
    cleanups.push(() => stopProcess(worker));
    const serverUrl = `http://127.0.0.1:${port}`;
    const workerUrl = `http://127.0.0.1:${workerPort}`;
    await waitForReady(serverUrl, { process: server, logFile: join(logDir, 'server.log') });
    await waitFor(async () => (await fetch(`${workerUrl}/health`)).ok, {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'the worker /health',
      hopeless: () => exitReason(worker, join(logDir, 'worker.log')),
    });

    const sql = new pg.Pool({ connectionString: databaseUrl, max: 20 });
    cleanups.push(() => sql.end());
    const gql = new GraphQLClient(serverUrl, token);
    cleanups.push(() => gql.close());
    const receiver = new ReceiverClient(receiverUrl);
    cleanups.push(() => receiver.close());

    log(`stack up: server ${serverUrl} (pid ${server.pid}), worker ${workerUrl} (pid ${worker.pid}), receiver ${receiverUrl}, database ${databaseName}, logs ${logDir}`);
    return {
      runId,
      databaseName,
      databaseUrl,
      queuePrefix,
      token,
      serverUrl,
      workerUrl,
      receiverUrl,
      logDir,
      env,
      server,
      worker,
      receiverProcess,
      sql,
      gql,
      receiver,
      workerConcurrency,
      close: closeAll,
    };
  } catch (error) {
    log(`the stack did not start; logs in ${logDir}`);
    await closeAll();
    throw error;
  }
}

/** Job counts of the delivery queue, from the worker's Prometheus /metrics. */
export async function queueCounts(workerUrl: string): Promise<Record<string, number>> {
  try {
    const text = await (await fetch(`${workerUrl}/metrics`)).text();
    const counts: Record<string, number> = {};
    for (const match of text.matchAll(/^hookd_queue_jobs\{[^}]*state="(\w+)"[^}]*\} (\S+)$/gm)) counts[match[1]!] = Number(match[2]);
    return counts;
  } catch {
    return {};
  }
}

/** A gauge or counter of a Prometheus text page (first series matching the name). */
export async function metricValue(url: string, name: string): Promise<number | null> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

/** The server's request-duration buckets (seconds) of answered GraphQL POSTs, or null if /metrics does not answer. */
export async function graphqlRequestBuckets(serverUrl: string): Promise<Buckets | null> {
  try {
    const text = await (await fetch(`${serverUrl}/metrics`)).text();
    const buckets: Buckets = [];
    for (const match of text.matchAll(/^hookd_http_request_duration_seconds_bucket\{([^}]*)\} (\S+)$/gm)) {
      const labels = match[1]!;
      if (!labels.includes('route="graphql"') || !labels.includes('method="POST"') || !labels.includes('status="2xx"')) continue;
      const le = /le="([^"]+)"/.exec(labels)![1]!;
      buckets.push([le === '+Inf' ? Infinity : Number(le), Number(match[2])]);
    }
    return buckets.sort((a, b) => a[0] - b[0]);
  } catch {
    return null;
  }
}
