// Throwaway Redis and PostgreSQL servers for fault tests: each on a free loopback port, as a
// child process of the test, so a test can kill and restart them without touching the shared
// servers (127.0.0.1:6379 and :5432), which these helpers never connect to.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT, freePort } from './stack.ts';
import { waitFor } from './wait.ts';

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await once(child, 'exit');
}

/** Sends `signal` and waits for the exit; SIGKILL after `graceMs`. */
async function kill(child: ChildProcess, signal: NodeJS.Signals, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(timer);
}

function logTo(child: ChildProcess, logFile: string): void {
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
}

/** Resolves when something on `port` answers a Redis PING with +PONG. */
function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
  });
}

/** A `redis-server` without persistence: killing it loses everything, as a crash of a cache-only Redis would. */
export class RedisServer {
  private child: ChildProcess | null = null;
  private starts = 0;

  private constructor(
    readonly port: number,
    readonly logDir: string,
  ) {}

  static async start(logDir: string): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), logDir);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts a new, empty Redis on the same port. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`redis on ${this.port} is already running`);
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
    const child = spawn('redis-server', args, { cwd: this.logDir, stdio: ['ignore', 'pipe', 'pipe'] });
    logTo(child, join(this.logDir, `redis-${++this.starts}.log`));
    this.child = child;
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}; see ${this.logDir}`);
        return redisAnswers(this.port);
      },
      { timeoutMs: 10_000, intervalMs: 25, what: `redis-server on port ${this.port}` },
    );
  }

  /** SIGKILL: a crash, everything in memory gone. */
  async kill(): Promise<void> {
    if (this.child) await kill(this.child, 'SIGKILL');
    this.child = null;
  }

  async stop(): Promise<void> {
    if (this.child) await kill(this.child, 'SIGTERM');
    this.child = null;
  }
}

/** The directory holding initdb and postgres: TEST_PG_BINDIR, else the newest /usr/lib/postgresql/<n>/bin, else PATH. */
function postgresBinDir(): string {
  if (process.env.TEST_PG_BINDIR) return process.env.TEST_PG_BINDIR;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((name) => existsSync(join(base, name, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], 'bin');
  }
  return '';
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` OS user. */
function postgresUser(): { uid: number; gid: number } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const id = (flag: string) => {
    const result = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error('running as root and there is no `postgres` user to run PostgreSQL as');
    return Number(result.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * A PostgreSQL cluster of its own in a temporary directory. `createDatabase` makes a database
 * with hookd's migrations applied (migrated once into a template, then copied).
 */
export class PostgresServer {
  private child: ChildProcess | null = null;
  private starts = 0;
  private templateReady = false;
  private readonly bin = postgresBinDir();
  private readonly user = postgresUser();

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly logDir: string,
  ) {}

  static async start(logDir: string): Promise<PostgresServer> {
    const dir = mkdtempSync(join(tmpdir(), 'hookd-pg-'));
    const server = new PostgresServer(await freePort(), dir, logDir);
    try {
      server.initdb();
      await server.start();
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  }

  private command(name: string): string {
    return this.bin ? join(this.bin, name) : name;
  }

  private initdb(): void {
    if (this.user) chownSync(this.dir, this.user.uid, this.user.gid);
    const result = spawnSync(
      this.command('initdb'),
      ['-D', join(this.dir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync', '--encoding=UTF8', '--locale=C'],
      { encoding: 'utf8', ...(this.user ?? {}) },
    );
    if (result.status !== 0) throw new Error(`initdb failed (${result.status}): ${result.error?.message ?? ''}\n${result.stdout}\n${result.stderr}`);
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** A URL for `database` on this server. */
  url(database = 'postgres'): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts the postmaster (again, after `stop`, on the same port and data). */
  async start(): Promise<void> {
    if (this.running) throw new Error(`postgres on ${this.port} is already running`);
    const args = [
      '-D', join(this.dir, 'data'),
      '-p', String(this.port),
      '-k', this.dir,
      '-c', 'listen_addresses=127.0.0.1',
      // A throwaway cluster: durability is not the point, speed on a small machine is.
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
    ];
    const child = spawn(this.command('postgres'), args, { stdio: ['ignore', 'pipe', 'pipe'], ...(this.user ?? {}) });
    logTo(child, join(this.logDir, `postgres-${++this.starts}.log`));
    this.child = child;
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}; see ${this.logDir}`);
        const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1_000 });
        client.on('error', () => {});
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } finally {
          await client.end().catch(() => {});
        }
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `postgres on port ${this.port}` },
    );
  }

  /**
   * Stops the postmaster. SIGINT is PostgreSQL's fast shutdown (every session ended at once);
   * SIGQUIT its immediate shutdown, which recovers from the WAL on the next start, like a crash.
   */
  async stop(signal: 'SIGINT' | 'SIGQUIT' | 'SIGTERM' = 'SIGINT'): Promise<void> {
    if (this.child) await kill(this.child, signal);
    this.child = null;
  }

  private async admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: this.url() });
    client.on('error', () => {});
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end().catch(() => {});
    }
  }

  /** A new database with hookd's migrations applied (`scripts/prisma.mjs migrate deploy`); returns its URL. */
  async createDatabase(name: string): Promise<string> {
    if (!this.templateReady) {
      await this.admin((client) => client.query('CREATE DATABASE hookd_template'));
      const migrate = spawn(process.execPath, [join(ROOT, 'scripts/prisma.mjs'), 'migrate', 'deploy'], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: this.url('hookd_template') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      migrate.stdout!.on('data', (chunk) => (output += chunk));
      migrate.stderr!.on('data', (chunk) => (output += chunk));
      const [code] = await once(migrate, 'exit');
      if (code !== 0) throw new Error(`migrate deploy failed (${code}):\n${output}`);
      this.templateReady = true;
    }
    await this.admin((client) => client.query(`CREATE DATABASE "${name}" TEMPLATE hookd_template`));
    return this.url(name);
  }

  /** Stops the server and removes its directory. */
  async destroy(): Promise<void> {
    await this.stop('SIGINT');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
