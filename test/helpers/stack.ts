// Starts hookd as production runs it: migrations applied, then `server/main.ts` and
// `worker/main.ts` as child processes, against a database and a QUEUE_PREFIX of their own.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { waitFor } from './wait.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface StackInfo {
  url: string;
  /** The shared worker's /metrics and /health. */
  workerUrl: string;
  token: string;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  env: Record<string, string>;
  logDir: string;
}

/**
 * The first port of the kernel's ephemeral range. The kernel hands out ports from that range by
 * itself, to a listener on port 0 and to the local end of every outgoing connection, so a port
 * chosen there can be taken by another process between choosing it and listening on it. In the
 * full suite a server of one file was once left without its port that way.
 */
const EPHEMERAL_LOW = (() => {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2_048 ? low : 32_768;
  } catch {
    return 32_768;
  }
})();
/** Ports this process has handed out: not handed out twice, even once they are free again. */
const handedOut = new Set<number>();

/**
 * A free port below the ephemeral range, chosen at random: only another test's choice can take
 * it, and a Redis or PostgreSQL a test restarts on its port finds it still free.
 */
export async function freePort(): Promise<number> {
  const low = Math.max(1_024, EPHEMERAL_LOW - 12_000);
  for (let tries = 0; tries < 100; tries++) {
    const port = low + Math.floor(Math.random() * (EPHEMERAL_LOW - low));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port found between ${low} and ${EPHEMERAL_LOW}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)));
  });
}

/** A fresh database with the migrations applied through Prisma, as `npm run db:migrate` does. */
export async function createTestDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const migrate = spawnSync(process.execPath, [join(ROOT, 'scripts/prisma.mjs'), 'migrate', 'deploy'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    encoding: 'utf8',
  });
  if (migrate.status !== 0) throw new Error(`migrate deploy failed:\n${migrate.stdout}\n${migrate.stderr}`);
  return databaseUrl;
}

export async function dropTestDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
}

export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

/** Runs an entry point (`server/main.ts`, `worker/main.ts`) with tsx, logging to a file. */
export function startProcess(entry: string, env: Record<string, string>, logFile: string): ChildProcess {
  // HOOKD_CPU_PROF_DIR: each process writes a V8 CPU profile there when it exits (for `npm run bench`).
  const profile = process.env.HOOKD_CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.HOOKD_CPU_PROF_DIR] : [];
  const child = spawn(process.execPath, ['--v8-pool-size=1', ...profile, '--import', 'tsx', join(ROOT, entry)], {
    cwd: ROOT,
    // As `npm run server` / `npm run worker` and the container image run them.
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return child;
}

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveExit(code);
    });
    child.kill(signal);
  });
}

/** Waits until `url`/ready answers 200; gives up at once, naming its log, if `child` exits first. */
export async function waitForReady(url: string, child?: { process: ChildProcess; logFile: string }): Promise<void> {
  await waitFor(async () => (await fetch(`${url}/ready`)).ok, {
    timeoutMs: 30_000,
    intervalMs: 100,
    what: `${url}/ready`,
    hopeless: () => child && exitReason(child.process, child.logFile),
  });
}

/** Waits until a worker logs "worker ready" (it takes jobs); gives up at once, naming its log, if it exits first. */
export async function waitForWorkerReady(worker: ChildProcess, logFile: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(() => readFileSync(logFile, 'utf8').includes('"worker ready"'), {
    timeoutMs,
    intervalMs: 100,
    what: `the worker to log "worker ready" (${logFile})`,
    hopeless: () => exitReason(worker, logFile),
  });
}

/** Why `child` is no longer running (its exit code or signal, and where its log is), or undefined while it runs. */
export function exitReason(child: ChildProcess, logFile: string): string | undefined {
  const exit = child.exitCode ?? child.signalCode;
  return exit === null ? undefined : `it exited (${exit}); see ${logFile}`;
}

/** Test runs' log directories, one per run, each named `run-<pid>-…` for the vitest process that made it. */
const RUNS_LOG_ROOT = join(tmpdir(), 'hookd-tests');
/** The current run's directory, set by the global setup; test workers inherit it. */
const RUN_LOG_DIR = 'HOOKD_TEST_RUN_LOGS';

/**
 * Makes this run's log directory and removes those of earlier runs that have ended: a run's
 * logs stay for reading after it (its failures name them) until the next run starts.
 */
export function startRunLogs(): void {
  mkdirSync(RUNS_LOG_ROOT, { recursive: true });
  for (const name of readdirSync(RUNS_LOG_ROOT)) {
    const pid = Number(/^run-(\d+)-/.exec(name)?.[1]);
    if (Number.isInteger(pid) && !isAlive(pid)) rmSync(join(RUNS_LOG_ROOT, name), { recursive: true, force: true });
  }
  process.env[RUN_LOG_DIR] = mkdtempSync(join(RUNS_LOG_ROOT, `run-${process.pid}-`));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A log directory for some processes a test starts, inside this run's (or the system's temporary directory). */
export function newLogDir(): string {
  return mkdtempSync(join(process.env[RUN_LOG_DIR] ?? tmpdir(), 'hookd-test-'));
}

export { REDIS_URL };
