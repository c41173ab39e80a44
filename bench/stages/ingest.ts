// Stage 2: N concurrent GraphQL clients calling ingestEvent as fast as answered (closed loop).
// Stage 3: ingestEvents, up to 1,000 events per call.
// Both ingest into an ACTIVE subscription (ingest includes enqueueing); the deliveries that
// follow are waited for, and their rate reported as the burst delivery rate.
import type { BenchContext } from '../lib/context.ts';
import { INGEST_EVENTS, closedLoop, waitDelivered } from '../lib/load.ts';
import { CpuMeter } from '../lib/proc.ts';
import { row, type StageOutput } from '../lib/report.ts';
import { nowMs, round, summarize } from '../lib/stats.ts';

async function drain(ctx: BenchContext, tag: string, accepted: number, startedAt: number) {
  const drained = await waitDelivered(ctx.stack, tag, accepted, ctx.ms(180_000, 20_000));
  const elapsed = (drained.lastDelivered ?? nowMs()) - startedAt;
  return {
    delivered: drained.delivered,
    allDelivered: drained.delivered >= accepted,
    /** From the first ingest to the last delivery. */
    deliveredPerSecond: round((drained.delivered * 1000) / elapsed),
    drainWaitMs: drained.waitedMs,
  };
}

export async function ingestStage(ctx: BenchContext): Promise<StageOutput> {
  const subscriptionId = await ctx.mainSubscription();
  const tag = `ingest-${Date.now()}`;
  const clients = ctx.options.ingestClients;
  const startedAt = nowMs();
  const meter = new CpuMeter({ server: ctx.stack.server.pid!, worker: ctx.stack.worker.pid! });
  const load = await closedLoop(ctx.stack.gql, { clients, durationMs: ctx.ms(10_000, 2_000), subscriptionId, tag });
  const serverCpu = meter.stop(load.requests).server!;
  const serverCpuMsPerRequest = round(serverCpu.cpuSeconds * 1000 / Math.max(1, load.requests), 3);
  ctx.log(`ingest: ${load.requestsPerSecond} req/s, p99 ${load.latency.p99} ms, server CPU ${serverCpuMsPerRequest} ms/request; draining`);
  const delivery = await drain(ctx, tag, load.accepted, startedAt);
  return {
    result: { ...load, serverCpuMsPerRequest, delivery },
    rows: [
      row('2 ingest', `ingestEvent, ${clients} clients`, load.requestsPerSecond, 'req/s'),
      row('2 ingest', 'ingestEvent p50 / p99', `${load.latency.p50} / ${load.latency.p99}`, 'ms'),
      row('2 ingest', 'server CPU per ingestEvent', serverCpuMsPerRequest, 'ms'),
      row('2 ingest', 'then delivered (burst)', delivery.deliveredPerSecond, 'ev/s'),
    ],
  };
}

export async function batchStage(ctx: BenchContext): Promise<StageOutput> {
  const subscriptionId = await ctx.mainSubscription();
  const tag = `batch-${Date.now()}`;
  const batchSize = ctx.options.quick ? 500 : 1_000;
  const calls = ctx.options.quick ? 4 : 20;
  const latencies: number[] = [];
  let accepted = 0;
  let errors = 0;
  let seq = 0;
  const startedAt = nowMs();
  // Two callers, so one batch is in the database while the next is parsed.
  let remaining = calls;
  await Promise.all(
    [0, 1].map(async () => {
      while (remaining-- > 0) {
        const inputs = Array.from({ length: batchSize }, () => ({
          subscriptionId,
          eventType: 'bench.batch',
          payload: { tag, seq: seq++, sentAt: nowMs() },
        }));
        const result = await ctx.stack.gql.request(INGEST_EVENTS, { inputs });
        latencies.push(result.ms);
        const events = result.data?.ingestEvents?.events;
        if (Array.isArray(events)) accepted += events.length;
        else errors++;
      }
    }),
  );
  const elapsed = nowMs() - startedAt;
  const eventsPerSecond = round((accepted * 1000) / elapsed);
  ctx.log(`batch: ${eventsPerSecond} events/s; draining`);
  const delivery = await drain(ctx, tag, accepted, startedAt);
  return {
    result: { batchSize, calls, accepted, errors, durationMs: round(elapsed), eventsPerSecond, callLatency: summarize(latencies), delivery },
    rows: [
      row('3 batch ingest', `ingestEvents × ${batchSize}`, eventsPerSecond, 'ev/s'),
      row('3 batch ingest', 'then delivered (burst)', delivery.deliveredPerSecond, 'ev/s'),
    ],
  };
}
