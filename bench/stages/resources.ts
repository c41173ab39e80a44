// Stage 8: resources of the server and the worker: peak RSS (VmHWM) and CPU seconds per 1,000
// deliveries, over a long run at half the top rate (10 minutes in full mode), with RSS at 1 minute
// and at the end: the end must be within 10% of the 1-minute figure (no leak). RSS rises and falls
// with each major garbage collection (by 100 MiB here, a saw of one to two minutes), so each
// figure is the median of the samples (one per 5 s) over a window: the second minute, and the
// last minute. A leak lifts the whole saw, so its median; where the collections happen to fall
// in a window moves the median little, and its top a lot (the top measured 0.69 to 1.22 on runs
// with no leak, the median 0.77 to 1.09).
import type { BenchContext } from '../lib/context.ts';
import { openLoop, waitDelivered } from '../lib/load.ts';
import { CpuMeter, resetPeak, sampleProcess, type ProcSample } from '../lib/proc.ts';
import { atMost, row, type StageOutput } from '../lib/report.ts';
import { median, nowMs, round, sleep } from '../lib/stats.ts';

export async function resourcesStage(ctx: BenchContext): Promise<StageOutput> {
  const { stack } = ctx;
  const pids = { server: stack.server.pid!, worker: stack.worker.pid! };
  const peakBefore = { server: sampleProcess(pids.server).hwmMiB, worker: sampleProcess(pids.worker).hwmMiB };
  const peakReset = resetPeak(pids.server) && resetPeak(pids.worker);
  const rate = Math.max(1, Math.round(ctx.topRate() / 2));
  const durationMs = ctx.ms(600_000, 5_000);
  const earlyAtMs = ctx.options.quick ? Math.min(1_000, durationMs / 4) : Math.min(60_000, durationMs / 4);
  const tag = `resources-${Date.now()}`;
  const samples: { atMs: number; server: ProcSample; worker: ProcSample }[] = [];
  let sampling = true;
  const startedAt = nowMs();
  const meter = new CpuMeter(pids);
  const sampler = (async () => {
    while (sampling) {
      const sample = { atMs: round(nowMs() - startedAt), server: sampleProcess(pids.server), worker: sampleProcess(pids.worker) };
      samples.push(sample);
      await sleep(ctx.options.quick ? 250 : 5_000);
    }
  })();
  const load = await openLoop(stack.gql, { rate, durationMs, subscriptionIds: [await ctx.mainSubscription()], tag, mode: ctx.options.ingestMode });
  const drained = await waitDelivered(stack, tag, load.accepted, ctx.ms(60_000, 5_000));
  sampling = false;
  await sampler;
  const end = { server: sampleProcess(pids.server), worker: sampleProcess(pids.worker) };
  const cpu = meter.stop(drained.delivered);
  const maxRss = (name: 'server' | 'worker') => round(Math.max(...samples.map((s) => s[name].rssMiB), end[name].rssMiB), 1);
  const lastAtMs = samples.at(-1)?.atMs ?? 0;
  const inWindow = (name: 'server' | 'worker', from: number, to: number) => [
    ...samples.filter((s) => s.atMs >= from && s.atMs <= to).map((s) => s[name].rssMiB),
    ...(to >= lastAtMs ? [end[name].rssMiB] : []),
  ];
  const rssEarly = (name: 'server' | 'worker') => median(inWindow(name, earlyAtMs, 2 * earlyAtMs));
  const rssEnd = (name: 'server' | 'worker') => median(inWindow(name, lastAtMs - earlyAtMs, lastAtMs)) ?? end[name].rssMiB;
  const topOf = (name: 'server' | 'worker', from: number, to: number) => {
    const window = inWindow(name, from, to);
    return window.length > 0 ? round(Math.max(...window), 1) : null;
  };
  const growth = (name: 'server' | 'worker') => {
    const early = rssEarly(name);
    return early ? round(rssEnd(name) / early, 3) : null;
  };
  const summary = (name: 'server' | 'worker') => ({
    peakRssMiB: round(end[name].hwmMiB, 1),
    maxSampledRssMiB: maxRss(name),
    rssEarlyMiB: rssEarly(name) === null ? null : round(rssEarly(name)!, 1),
    rssEndMiB: round(rssEnd(name), 1),
    rssGrowth: growth(name),
    /** The tops of the same windows, for reference (they depend on where the collections fall). */
    rssEarlyTopMiB: topOf(name, earlyAtMs, 2 * earlyAtMs),
    rssEndTopMiB: topOf(name, lastAtMs - earlyAtMs, lastAtMs),
    cpuSecondsPer1kDeliveries: cpu[name]!.cpuSecondsPer1kDeliveries,
  });
  const result = {
    offeredRate: rate,
    durationMs: load.durationMs,
    delivered: drained.delivered,
    accepted: load.accepted,
    peakReset,
    peakBeforeStageMiB: peakBefore,
    server: summary('server'),
    worker: summary('worker'),
    machineCpuSecondsPer1kDeliveries: cpu.machine?.cpuSecondsPer1kDeliveries ?? null,
    earlyAtMs,
    rssMeasure: 'median of the samples in the second minute, and in the last minute',
    samples: samples.map((s) => ({ atMs: s.atMs, serverRssMiB: round(s.server.rssMiB, 1), workerRssMiB: round(s.worker.rssMiB, 1) })),
  };
  const minutes = (ms: number) => (ms >= 60_000 ? `${round(ms / 60_000, 1)} min` : `${round(ms / 1000, 1)} s`);
  const label = `${minutes(result.durationMs)} vs ${minutes(result.earlyAtMs)} (median of the last minute's samples vs the second's)`;
  ctx.log(`resources: server ${result.server.rssEarlyMiB}→${result.server.rssEndMiB} MiB, worker ${result.worker.rssEarlyMiB}→${result.worker.rssEndMiB} MiB`);
  return {
    result,
    rows: [
      row('8 resources', `offered ${rate}/s for ${minutes(result.durationMs)}: delivered`, `${drained.delivered} of ${load.accepted}`, ''),
      row('8 resources', `server peak RSS${peakReset ? ' (this stage)' : ''}`, result.server.peakRssMiB, 'MiB'),
      row('8 resources', `worker peak RSS${peakReset ? ' (this stage)' : ''}`, result.worker.peakRssMiB, 'MiB'),
      row('8 resources', 'server CPU per 1k deliveries', result.server.cpuSecondsPer1kDeliveries, 's'),
      row('8 resources', 'worker CPU per 1k deliveries', result.worker.cpuSecondsPer1kDeliveries, 's'),
      row('8 resources', `server RSS ${label}`, result.server.rssGrowth, '×', atMost(result.server.rssGrowth, 1.1, '×')),
      row('8 resources', `worker RSS ${label}`, result.worker.rssGrowth, '×', atMost(result.worker.rssGrowth, 1.1, '×')),
    ],
  };
}
