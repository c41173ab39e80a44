#!/usr/bin/env node
// Builds the dashboard (web/ → web/dist) when the build is missing or older than its sources.
// `npm start` and the tests call it; `npm run build:web` always builds.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');
const built = join(web, 'dist', 'index.html');

// Build output, dependencies, and the typed-schema file that `npm run typecheck` rewrites.
const SKIP = new Set(['dist', 'node_modules', 'graphql-env.d.ts']);

function newest(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(info.mtimeMs, ...readdirSync(path).filter((name) => !SKIP.has(name)).map((name) => newest(join(path, name))));
}

export function webIsStale() {
  if (!existsSync(join(web, 'index.html'))) return false;
  if (!existsSync(built)) return true;
  return Math.max(newest(web), newest(join(root, 'schema.graphql'))) > statSync(built).mtimeMs;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!webIsStale()) process.exit(0);
  console.log('hookd: building the dashboard (web/dist)…');
  const result = spawnSync('npm', ['run', '-s', 'build:web'], { cwd: root, stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
