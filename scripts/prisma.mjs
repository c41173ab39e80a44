#!/usr/bin/env node
// Runs the Prisma CLI. Where Prisma's binary host is unreachable (as on our build
// machines), a stand-in schema engine may sit in ../shared/prisma-offline; use it only
// when present and when PRISMA_SCHEMA_ENGINE_BINARY is not already set.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env, PATH: `${resolve(root, 'node_modules/.bin')}:${process.env.PATH ?? ''}` };
const offlineEngine = resolve(root, '../shared/prisma-offline/schema-engine.mjs');
if (!env.PRISMA_SCHEMA_ENGINE_BINARY && existsSync(offlineEngine)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = offlineEngine;
  env.PRISMA_ENGINE_SHIM_PROJECT ??= root;
}
const cli = resolve(root, 'node_modules/prisma/build/index.js');
const result = spawnSync(process.execPath, [cli, ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
process.exit(result.status ?? 1);
