#!/usr/bin/env node
// `npm start`: applies pending migrations, builds the dashboard if needed, then runs one
// server and one worker, stopping both when either exits or on Ctrl-C / SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const migrate = spawnSync(process.execPath, [resolve(root, 'scripts/prisma.mjs'), 'migrate', 'deploy'], { cwd: root, stdio: 'inherit' });
if (migrate.status !== 0) {
  console.error('hookd: migrations failed; is PostgreSQL running and DATABASE_URL right?');
  process.exit(migrate.status ?? 1);
}

// The dashboard, when web/ has one and its build is missing or stale.
const web = spawnSync(process.execPath, [resolve(root, 'scripts/build-web.mjs')], { cwd: root, stdio: 'inherit' });
if (web.status !== 0) console.error('hookd: the dashboard did not build; the API runs without it');

// In production mode unless told otherwise, as `npm run server`, `npm run worker` and the
// container image run them: graphql-js's development checks alone cost a live update a fifth
// of its execution.
const env = { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'production' };
// One V8 helper thread each (README, Performance: "One V8 helper thread per process").
const children = ['server/main.ts', 'worker/main.ts'].map((entry) =>
  spawn(process.execPath, ['--v8-pool-size=1', '--import', 'tsx', resolve(root, entry)], { cwd: root, stdio: 'inherit', env }),
);
let exitCode = 0;
let stopping = false;
const stopAll = (signal) => {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
};
for (const child of children) {
  child.on('exit', (code) => {
    if (code) exitCode = code;
    stopAll('SIGTERM');
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(exitCode);
  });
}
process.on('SIGINT', () => stopAll('SIGTERM'));
process.on('SIGTERM', () => stopAll('SIGTERM'));
