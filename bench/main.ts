// hookd's benchmark: `npm run bench` (about 20 minutes) or `npm run bench -- --quick` (under a
// minute). Starts its own receiver, database, QUEUE_PREFIX, server and worker, runs the stages one
// after another, prints a table and writes it with every measurement as JSON under bench/results/.
//
//   --quick              a small version of every stage
//   --stages=a,b         only these (ceiling, ingest, batch, sustained, live, retries, growth, resources)
//   --duration=X         multiply every window's length by X
//   --out=DIR            where the JSON goes (default bench/results; the README is updated only there)
//   --rate=N             the top rate to use when the sustained stage does not run
//   --ingest-clients=N   concurrent clients of the ingest stage (default 32; quick 8)
//   --live-clients=N     graphql-ws clients of the live stage (default 1000; quick 100)
//   --live-fanout=N,M    live clients per webhook subscription, one window each (default 1,10)
//   --growth-events=N    events the growth stage pre-fills, 3 attempts each (default 1000000; quick 20000)
//   --ingest=batch|single how the delivery stages offer events: one ingestEvents request per
//                        5 ms tick with the events due (default, as a busy producer does), or
//                        one ingestEvent request per event
//   --no-readme          don't paste the table into README.md after a full run
// WORKER_CONCURRENCY (and RETRY_SCHEDULE) in the environment are passed to the worker.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from '../test/helpers/stack.ts';
import { STAGES, type BenchContext, type BenchOptions, type StageName } from './lib/context.ts';
import { createReceiverSubscription, ingestOne, waitDelivered, type IngestMode } from './lib/load.ts';
import { describeMachine, formatTable, row, type Machine, type Row, type StageOutput } from './lib/report.ts';
import { startBenchStack, type BenchStack } from './lib/stack.ts';
import { round } from './lib/stats.ts';
import { ceilingStage, naiveAgain } from './stages/ceiling.ts';
import { growthStage } from './stages/growth.ts';
import { batchStage, ingestStage } from './stages/ingest.ts';
import { liveStage } from './stages/live.ts';
import { resourcesStage } from './stages/resources.ts';
import { retriesStage } from './stages/retries.ts';
import { sustainedStage } from './stages/sustained.ts';

const RUNNERS: Record<StageName, (ctx: BenchContext) => Promise<StageOutput>> = {
  ceiling: ceilingStage,
  ingest: ingestStage,
  batch: batchStage,
  sustained: sustainedStage,
  live: liveStage,
  retries: retriesStage,
  growth: growthStage,
  resources: resourcesStage,
};

const DEFAULT_OUT = join(ROOT, 'bench/results');

function parseOptions(argv: string[]): BenchOptions {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([\w-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument ${arg}`);
    const [, name, value] = match;
    if (value !== undefined) values.set(name!, value);
    else if (['out', 'stages', 'duration', 'rate', 'ingest-clients', 'live-clients', 'live-fanout', 'growth-events', 'ingest'].includes(name!)) values.set(name!, argv[++i] ?? '');
    else values.set(name!, 'true');
  }
  const known = new Set(['quick', 'stages', 'duration', 'out', 'rate', 'ingest-clients', 'live-clients', 'live-fanout', 'growth-events', 'ingest', 'readme', 'no-readme']);
  for (const name of values.keys()) if (!known.has(name)) throw new Error(`unknown option --${name}`);
  const quick = values.get('quick') === 'true';
  const stages = values.has('stages') ? values.get('stages')!.split(',').map((s) => s.trim()).filter(Boolean) : [...STAGES];
  for (const stage of stages) if (!(STAGES as readonly string[]).includes(stage)) throw new Error(`unknown stage ${stage} (stages: ${STAGES.join(', ')})`);
  const number = (name: string, fallback: number) => {
    const value = values.has(name) ? Number(values.get(name)) : fallback;
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
    return value;
  };
  const outDir = resolve(values.get('out') ?? DEFAULT_OUT);
  return {
    quick,
    stages: STAGES.filter((stage) => stages.includes(stage)),
    durationScale: number('duration', 1),
    outDir,
    readme: !quick && outDir === DEFAULT_OUT && values.get('no-readme') !== 'true',
    rate: values.has('rate') ? number('rate', 0) : null,
    ingestClients: Math.round(number('ingest-clients', quick ? 8 : 32)),
    liveClients: Math.round(number('live-clients', quick ? 100 : 1_000)),
    liveFanouts: (values.get('live-fanout') ?? '1,10').split(',').map((part) => {
      const value = Math.round(Number(part));
      if (!Number.isFinite(value) || value <= 0) throw new Error('--live-fanout must list positive numbers');
      return value;
    }),
    growthEvents: Math.round(number('growth-events', quick ? 20_000 : 1_000_000)),
    ingestMode: ingestMode(values.get('ingest') ?? 'batch'),
  };
}

function ingestMode(value: string): IngestMode {
  if (value !== 'batch' && value !== 'single') throw new Error('--ingest must be batch or single');
  return value;
}

function machineLine(machine: Machine): string {
  return `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}, PostgreSQL ${machine.postgres}, Redis ${machine.redis}`;
}

/** Pastes the table (and the headline queries' plans) between the README's bench markers. */
function updateReadme(table: string, machine: Machine, startedAt: string, results: Record<string, any>): void {
  const path = join(ROOT, 'README.md');
  const readme = readFileSync(path, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  if (!readme.includes(start) || !readme.includes(end)) return;
  const plans = (results.growth?.queries ?? []) as { name: string; headline: boolean; statements: { plan: string }[] }[];
  const planText = plans
    .filter((q) => q.headline)
    .map((q) => `${q.name}:\n${q.statements.map((s) => s.plan).join('\n\n')}`)
    .join('\n\n');
  const block = [
    start,
    `Last full run: ${startedAt}, on ${machineLine(machine)}.`,
    '',
    table,
    ...(planText ? ['', '<details><summary>EXPLAIN (ANALYZE, BUFFERS) of the dashboard queries at the grown size</summary>', '', '```', planText, '```', '', '</details>'] : []),
    end,
  ].join('\n');
  writeFileSync(path, readme.slice(0, readme.indexOf(start)) + block + readme.slice(readme.indexOf(end) + end.length));
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const log = (message: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
  const results: Record<string, Record<string, any>> = {};
  const rows: Row[] = [];
  const errors: Record<string, string> = {};
  let machine: Machine | null = null;
  let stack: BenchStack | null = null;
  let hookd: Record<string, unknown> = {};
  // Ctrl-C: the children get the signal too; remove the database and the Redis keys before leaving.
  const onSignal = (signal: string) => {
    log(`${signal}: cleaning up`);
    void (stack ? stack.close() : Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    stack = await startBenchStack(log);
    const running = stack;
    machine = await describeMachine(stack.sql);
    log(`machine: ${machineLine(machine)}`);
    const { API_TOKENS: _token, ...env } = stack.env;
    hookd = { workerConcurrency: stack.workerConcurrency, env, logDir: stack.logDir };
    let mainSubscription: Promise<string> | null = null;
    const ctx: BenchContext = {
      options,
      stack,
      results,
      log,
      ms: (full, quick) => Math.round((options.quick ? quick : full) * options.durationScale),
      mainSubscription: () => (mainSubscription ??= createReceiverSubscription(running, 'bench-main')),
      topRate: () => (results.sustained?.topRate as number | undefined) || options.rate || (options.quick ? 200 : 500),
    };
    // Warm-up: the worker takes jobs, and both processes have compiled their hot paths.
    const warmup = await ctx.mainSubscription();
    await Promise.all(Array.from({ length: 50 }, (_, i) => ingestOne(stack!.gql, warmup, 'warmup', i)));
    const warmed = await waitDelivered(stack, 'warmup', 50, 30_000);
    if (warmed.delivered < 50) throw new Error(`the worker delivered ${warmed.delivered} of 50 warm-up events; logs in ${stack.logDir}`);
    log('warmed up');

    // The machine's speed is measured again after the stages whose latencies are judged.
    const driftAfter = options.stages.includes('live') ? 'live' : options.stages[options.stages.length - 1];
    for (const stage of options.stages) {
      const stageStarted = Date.now();
      log(`stage ${stage}`);
      try {
        const output = await RUNNERS[stage](ctx);
        results[stage] = { ...output.result, stageSeconds: round((Date.now() - stageStarted) / 1000, 1) };
        rows.push(...output.rows);
      } catch (error) {
        errors[stage] = (error as Error).stack ?? String(error);
        results[stage] = { error: (error as Error).message };
        rows.push(row(stage, 'stage failed', (error as Error).message.slice(0, 120), '', { text: 'runs', pass: false }));
        log(`stage ${stage} failed: ${(error as Error).stack}`);
      }
      await stack.receiver.reset(0).catch(() => {});
      if (stage === driftAfter && stage !== 'ceiling' && results.ceiling?.naive) {
        try {
          const again = await naiveAgain(ctx, stage);
          results.ceiling.naiveAgain = again.result;
          const lastCeilingRow = rows.findLastIndex((r) => r.stage === '1 ceiling');
          rows.splice(lastCeilingRow + 1, 0, again.row);
        } catch (error) {
          errors.ceilingAgain = (error as Error).stack ?? String(error);
          log(`the naive half-job again failed: ${(error as Error).stack}`);
        }
        await stack.receiver.reset(0).catch(() => {});
      }
    }
  } catch (error) {
    errors.setup = (error as Error).stack ?? String(error);
    log(`failed: ${(error as Error).stack}`);
  } finally {
    if (stack) {
      log('stopping and cleaning up');
      await stack.close();
      // The processes' logs are kept only when something failed.
      if (Object.keys(errors).length === 0) rmSync(stack.logDir, { recursive: true, force: true });
      else log(`logs of the server, worker and receiver: ${stack.logDir}`);
    }
  }

  const table = formatTable(rows);
  const finishedAt = new Date().toISOString();
  const output = {
    version: 1,
    mode: options.quick ? 'quick' : 'full',
    startedAt,
    finishedAt,
    wallSeconds: round((Date.now() - started) / 1000, 1),
    options,
    machine,
    hookd,
    stages: results,
    table: rows,
    errors,
  };
  mkdirSync(options.outDir, { recursive: true });
  const suffix = options.quick ? '-quick' : '';
  const file = join(options.outDir, `${startedAt.replace(/[:.]/g, '-')}${suffix}.json`);
  writeFileSync(file, `${JSON.stringify(output, null, 2)}\n`);
  writeFileSync(join(options.outDir, `latest${suffix}.json`), `${JSON.stringify(output, null, 2)}\n`);
  process.stdout.write(`\n${machine ? `${machineLine(machine)}\n\n` : ''}${table}\n\nresults: ${file} (${output.wallSeconds} s)\n`);
  if (options.readme && machine && Object.keys(errors).length === 0) updateReadme(table, machine, startedAt, results);
  return Object.keys(errors).length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(2);
  },
);
