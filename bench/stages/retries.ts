// Stage 6: a receiver failing half the requests once (500 to the first request of half the
// webhook-ids), at half the top rate: delivered/s and attempts/s. The bench runs hookd with
// RETRY_SCHEDULE=1s so the retries land in the window.
import type { BenchContext } from '../lib/context.ts';
import { openLoop, waitDelivered } from '../lib/load.ts';
import { CpuMeter } from '../lib/proc.ts';
import { atLeast, row, type StageOutput } from '../lib/report.ts';
import { nowMs, round, sleep } from '../lib/stats.ts';

export async function retriesStage(ctx: BenchContext): Promise<StageOutput> {
  const { stack } = ctx;
  const subscriptionIds = [await ctx.mainSubscription()];
  const rate = Math.max(1, Math.round(ctx.topRate() / 2));
  const durationMs = ctx.ms(30_000, 3_000);
  const tag = `retries-${Date.now()}`;
  await stack.receiver.reset(0.5);
  const meter = new CpuMeter({ server: stack.server.pid!, worker: stack.worker.pid! });
  const samples: { at: number; delivered: number; requests: number }[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const counts = await stack.receiver.stats(tag).catch(() => null);
      if (counts) samples.push({ at: nowMs(), delivered: counts.delivered, requests: counts.requests });
      await sleep(250);
    }
  })();
  const load = await openLoop(stack.gql, { rate, durationMs, subscriptionIds, tag, mode: ctx.options.ingestMode });
  const drained = await waitDelivered(stack, tag, load.accepted, ctx.ms(60_000, 10_000));
  polling = false;
  await poller;
  const final = await stack.receiver.stats(tag);
  const cpu = meter.stop(final.delivered);
  await stack.receiver.reset(0);

  // Steady state: after the first retries are due (1 s + a little), until the offered load ends.
  const from = samples.find((s) => s.at - load.startedAt >= Math.min(1_500, durationMs / 2)) ?? samples[0];
  const to = [...samples].reverse().find((s) => s.at <= load.endedAt) ?? samples[samples.length - 1];
  const span = from && to && to.at > from.at ? to.at - from.at : 0;
  const deliveredPerSecond = span ? round(((to!.delivered - from!.delivered) * 1000) / span) : null;
  const attemptsPerSecond = span ? round(((to!.requests - from!.requests) * 1000) / span) : null;
  ctx.log(`retries: ${deliveredPerSecond} delivered/s, ${attemptsPerSecond} attempts/s, ${final.failed} failed first`);
  return {
    result: {
      offeredRate: rate,
      load,
      failFraction: 0.5,
      deliveredPerSecond,
      attemptsPerSecond,
      events: load.accepted,
      delivered: final.delivered,
      attempts: final.requests,
      failedFirst: final.failed,
      duplicates: final.duplicates,
      allDelivered: drained.delivered >= load.accepted,
      drainWaitMs: drained.waitedMs,
      cpu,
    },
    rows: [
      row('6 retries', `offered ${rate}/s, half fail once: delivered`, deliveredPerSecond, 'ev/s', atLeast(deliveredPerSecond, rate * 0.97, 'ev/s')),
      row('6 retries', 'attempts', attemptsPerSecond, '/s'),
      row('6 retries', 'all delivered (events / attempts)', `${final.delivered} of ${load.accepted} / ${final.requests}`, '', { text: 'all', pass: final.delivered >= load.accepted }),
    ],
  };
}
