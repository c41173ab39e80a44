// Integration tests share one hookd (server + worker child processes) with short retry
// schedules, its own database and its own QUEUE_PREFIX.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import 'vitest';
import {
  REDIS_URL,
  ROOT,
  createTestDatabase,
  deleteRedisKeys,
  dropTestDatabase,
  freePort,
  newLogDir,
  startRunLogs,
  startProcess,
  stopProcess,
  waitForReady,
  waitForWorkerReady,
  type StackInfo,
} from './stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

export default async function setup(project: TestProject) {
  const runId = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const databaseName = `hookd_test_${runId}`;
  const queuePrefix = `hookd-test-${runId}`;
  const databaseUrl = await createTestDatabase(databaseName);
  const port = await freePort();
  const workerPort = await freePort();
  const token = `test-token-${randomBytes(12).toString('hex')}`;
  startRunLogs();
  const logDir = newLogDir();
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: queuePrefix,
    PORT: String(port),
    // Other tests start more workers from this env: each takes any free port.
    WORKER_PORT: '0',
    HOST: '127.0.0.1',
    API_TOKENS: `${token},second-token-${randomBytes(8).toString('hex')}`,
    RETRY_SCHEDULE: '300ms,600ms',
    MAX_ATTEMPTS: '4',
    DELIVERY_TIMEOUT: '1s',
    WORKER_CONCURRENCY: '20',
    SWEEP_INTERVAL: '1s',
    MAX_PAYLOAD_BYTES: '65536',
    ALLOW_PRIVATE_TARGETS: 'true',
    LOG_LEVEL: 'info',
  };
  // The server serves the dashboard only if its build exists when it starts.
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build-web.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`the dashboard did not build:\n${build.stdout}\n${build.stderr}`);
  const serverLog = join(logDir, 'server.log');
  const workerLog = join(logDir, 'worker.log');
  const server = startProcess('server/main.ts', env, serverLog);
  const worker = startProcess('worker/main.ts', { ...env, WORKER_PORT: String(workerPort) }, workerLog);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForReady(url, { process: server, logFile: serverLog });
    await waitForWorkerReady(worker, workerLog);
  } catch (error) {
    console.error(`hookd did not start; logs in ${logDir}`);
    throw error;
  }
  project.provide('stack', { url, workerUrl: `http://127.0.0.1:${workerPort}`, token, databaseUrl, redisUrl: REDIS_URL, queuePrefix, env, logDir });

  return async () => {
    const [serverExit, workerExit] = await Promise.all([stopProcess(server), stopProcess(worker)]);
    if (serverExit !== 0 || workerExit !== 0) {
      console.error(`server exited ${serverExit}, worker exited ${workerExit}; logs in ${logDir}`);
    }
    await dropTestDatabase(databaseName);
    await deleteRedisKeys(queuePrefix);
  };
}
