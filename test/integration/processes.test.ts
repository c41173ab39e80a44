// The processes themselves: configuration errors stop start-up, readiness tells the truth,
// and SIGTERM ends both cleanly.
import { once } from 'node:events';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stack } from '../helpers/api.ts';
import { sql } from '../helpers/db.ts';
import { freePort, newLogDir, startProcess, stopProcess, waitForReady, waitForWorkerReady } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait.ts';

describe('start-up', () => {
  it.each(['server/main.ts', 'worker/main.ts'])('%s refuses a bad configuration, naming every bad variable', async (entry) => {
    const logDir = newLogDir();
    const child = startProcess(entry, { ...stack().env, PORT: 'eighty', RETRY_SCHEDULE: '10s,soon', MAX_ATTEMPTS: '0' }, join(logDir, 'out.log'));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    const output = await waitFor(() => {
      const text = readFileSync(join(logDir, 'out.log'), 'utf8');
      return text.includes('MAX_ATTEMPTS') && text;
    });
    expect(output).toMatch(/PORT/);
    expect(output).toMatch(/RETRY_SCHEDULE: "soon" is not a duration/);
    expect(output).toMatch(/MAX_ATTEMPTS/);
  });
});

/**
 * Starts `entry` (HTTP on a free port, given as `portVariable`) against a Redis port nobody
 * listens on, and waits until its /health answers 200.
 */
async function startWithoutRedis(entry: string, portVariable: 'PORT' | 'WORKER_PORT') {
  const port = await freePort();
  const deadRedis = await freePort();
  const child = startProcess(
    entry,
    { ...stack().env, [portVariable]: String(port), REDIS_URL: `redis://127.0.0.1:${deadRedis}` },
    join(newLogDir(), 'out.log'),
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => (await fetch(`${url}/health`)).ok, { timeoutMs: 20_000, what: `${entry} to listen` });
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return { child, url };
}

describe('readiness and shutdown', () => {
  it('answers /ready 503 naming Redis while Redis is unreachable, /health 200 all the same', async () => {
    const { child, url } = await startWithoutRedis('server/main.ts', 'PORT');
    try {
      const ready = await fetch(`${url}/ready`);
      expect(ready.status).toBe(503);
      const body = await ready.json();
      expect(body.postgres).toBe('ok');
      expect(body.redis).toMatch(/^unavailable/);

      // Ingest still commits and answers; the event waits as PENDING for the sweeper.
      const call = async (query: string, variables: Record<string, unknown>) => {
        const response = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${stack().token}` },
          body: JSON.stringify({ query, variables }),
        });
        return (await response.json()) as any;
      };
      const created = await call(
        `mutation($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) { ... on WebhookSubscription { id } } }`,
        { input: { targetUrl: 'http://127.0.0.1:9/unreached' } },
      );
      const subscriptionId = created.data.createWebhookSubscription.id;
      const started = Date.now();
      const ingested = await call(
        `mutation($input: IngestEventInput!) { ingestEvent(input: $input) { ... on Event { id status } } }`,
        { input: { subscriptionId, payload: { while: 'redis is down' } } },
      );
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(ingested.data.ingestEvent.status).toBe('PENDING');
      const rows = await sql(`SELECT status FROM "Event" WHERE id = $1`, [ingested.data.ingestEvent.id]);
      expect(rows).toEqual([{ status: 'PENDING' }]);
      // Park it, so the shared worker does not spend the test's attempts on port 9.
      await sql(`UPDATE "WebhookSubscription" SET status = 'PAUSED' WHERE id = $1`, [subscriptionId]);
    } finally {
      await stopProcess(child);
    }
  });

  it("answers the worker's /ready 200 while it takes jobs and PostgreSQL and Redis answer", async () => {
    const ready = await fetch(`${stack().workerUrl}/ready`);
    expect(await ready.json()).toEqual({ status: 'ready', postgres: 'ok', redis: 'ok', jobs: 'ok' });
    expect(ready.status).toBe(200);
  });

  it("answers the worker's /ready 503 naming Redis and its job intake while Redis is unreachable, /health 200 all the same", async () => {
    const { child, url } = await startWithoutRedis('worker/main.ts', 'WORKER_PORT');
    try {
      const ready = await fetch(`${url}/ready`);
      expect(ready.status).toBe(503);
      const body = await ready.json();
      expect(body, JSON.stringify(body)).toMatchObject({ status: 'unavailable', postgres: 'ok', jobs: 'connecting' });
      expect(body.redis).toMatch(/^unavailable/);
    } finally {
      await stopProcess(child);
    }
  });

  it('stops server and worker with exit code 0 on SIGTERM', async () => {
    const logDir = newLogDir();
    const port = await freePort();
    const env = { ...stack().env, PORT: String(port) };
    const server = startProcess('server/main.ts', env, join(logDir, 'server.log'));
    const worker = startProcess('worker/main.ts', env, join(logDir, 'worker.log'));
    await waitForReady(`http://127.0.0.1:${port}`, { process: server, logFile: join(logDir, 'server.log') });
    await waitForWorkerReady(worker, join(logDir, 'worker.log'));
    expect(await stopProcess(server, 'SIGTERM')).toBe(0);
    expect(await stopProcess(worker, 'SIGTERM')).toBe(0);
  });
});
