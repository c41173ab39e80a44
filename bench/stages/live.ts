// Stage 5: graphql-ws clients subscribed to deliveryAttemptRecorded while events are offered at
// half the top rate. Each client watches one webhook subscription, as dashboards watching a
// subscription's page do (every client getting every attempt would be clients × rate messages),
// and the events are spread round robin over the subscriptions. One window per fan-out
// (`--live-fanout`): 1 client per subscription sends each attempt to one client; 10 per
// subscription, to ten (ten times the frames, though the server executes each update once per
// subscription: clients asking the same share the execution).
//
// Latency: the client's receipt time minus the attempt's attemptedAt + durationMs (when the
// receiver's answer was in, just before the worker records the attempt), so it covers recording
// the attempt, publishing it through Redis, and the server's fan-out over WebSockets.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { BenchContext } from '../lib/context.ts';
import { createReceiverSubscription, runWindow } from '../lib/load.ts';
import { atMost, row, type StageOutput } from '../lib/report.ts';
import { metricValue } from '../lib/stack.ts';
import { nowMs, round, sleep, summarize } from '../lib/stats.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { describeWindow } from './sustained.ts';

const ATTEMPTS = `subscription Live($subscriptionId: ID) {
  deliveryAttemptRecorded(subscriptionId: $subscriptionId) { id attemptNumber attemptedAt durationMs success responseStatus } }`;

export async function liveStage(ctx: BenchContext): Promise<StageOutput> {
  const windows: Record<string, unknown>[] = [];
  const rows: StageOutput['rows'] = [];
  for (const fanout of ctx.options.liveFanouts) {
    const output = await liveWindow(ctx, fanout);
    windows.push(output.result);
    rows.push(...output.rows);
  }
  return { result: { windows }, rows };
}

async function liveWindow(ctx: BenchContext, fanoutWanted: number): Promise<StageOutput> {
  const { stack } = ctx;
  const clientsWanted = ctx.options.liveClients;
  const fanout = Math.max(1, Math.min(fanoutWanted, clientsWanted));
  const subscriptionCount = Math.ceil(clientsWanted / fanout);
  const subscriptionIds: string[] = [];
  for (let i = 0; i < subscriptionCount; i++) subscriptionIds.push(await createReceiverSubscription(stack, `bench-live-${fanout}-${i}`, `/live/${i}`));

  const latencies: number[] = [];
  const errors: string[] = [];
  let messages = 0;
  const clients: Client[] = [];
  const unsubscribes: (() => void)[] = [];
  const baseline = (await metricValue(stack.serverUrl, 'hookd_live_subscribers')) ?? 0;
  const connectStarted = nowMs();
  for (let i = 0; i < clientsWanted; i += 50) {
    const batch = Array.from({ length: Math.min(50, clientsWanted - i) }, (_, j) => i + j);
    await Promise.all(
      batch.map(
        (index) =>
          new Promise<void>((resolve) => {
            const client = createClient({
              url: `${stack.serverUrl.replace('http', 'ws')}/graphql`,
              webSocketImpl: WebSocket,
              connectionParams: { authorization: `Bearer ${stack.token}` },
              retryAttempts: 0,
              on: { connected: () => resolve(), closed: () => resolve(), error: () => resolve() },
            });
            clients.push(client);
            unsubscribes.push(
              client.subscribe<{ deliveryAttemptRecorded: { attemptedAt: string; durationMs: number } }>(
                { query: ATTEMPTS, variables: { subscriptionId: subscriptionIds[index % subscriptionCount] } },
                {
                  next: (value) => {
                    const received = nowMs();
                    const attempt = value.data?.deliveryAttemptRecorded;
                    messages++;
                    if (attempt) latencies.push(received - (Date.parse(attempt.attemptedAt) + attempt.durationMs));
                  },
                  error: (error) => {
                    if (errors.length < 5) errors.push(String((error as Error)?.message ?? JSON.stringify(error)).slice(0, 200));
                  },
                  complete: () => {},
                },
              ),
            );
          }),
      ),
    );
  }
  // Every subscription is open on the server before the load starts.
  let open = 0;
  await waitFor(
    async () => {
      open = ((await metricValue(stack.serverUrl, 'hookd_live_subscribers')) ?? 0) - baseline;
      return open >= clientsWanted;
    },
    { timeoutMs: ctx.ms(30_000, 10_000), intervalMs: 100, what: `${clientsWanted} live subscribers` },
  ).catch(() => ctx.log(`live ×${fanout}: only ${open} of ${clientsWanted} subscriptions open`));
  const connectMs = round(nowMs() - connectStarted);
  ctx.log(`live ×${fanout}: ${open} subscriptions open in ${connectMs} ms`);

  const rate = Math.max(1, Math.round(ctx.topRate() / 2));
  // As the other stages measure a warmed stack: a few seconds on these subscriptions first
  // (their cache entries, rollup rows and the fan-out path), their messages not counted.
  await runWindow(stack, {
    rate,
    durationMs: ctx.ms(5_000, 500),
    subscriptionIds,
    tag: `live-warmup-${Date.now()}`,
    drainMs: 500,
    maxDrainMs: ctx.ms(30_000, 5_000),
    mode: ctx.options.ingestMode,
  });
  latencies.length = 0;
  messages = 0;
  const w = await runWindow(stack, {
    rate,
    durationMs: ctx.ms(30_000, 2_000),
    subscriptionIds,
    tag: `live-${Date.now()}`,
    drainMs: ctx.options.quick ? 1_000 : 2_000,
    maxDrainMs: ctx.ms(60_000, 5_000),
    mode: ctx.options.ingestMode,
  });
  await sleep(200);
  const attempts = (await stack.receiver.stats(w.tag)).requests;
  // Each attempt reaches the clients of its subscription: `fanout` of them (fewer for the last).
  const expectedMessages = attempts * (clientsWanted / subscriptionCount);
  for (const unsubscribe of unsubscribes) unsubscribe();
  await Promise.all(clients.map((client) => client.dispose()));
  const latency = summarize(latencies);
  const half = (ctx.results.sustained as { half?: { deliveredRate: number } } | undefined)?.half;
  ctx.log(`live ×${fanout}: ${describeWindow(w)}; subscriber p50 ${latency.p50} p99 ${latency.p99} ms; ${messages} of ${Math.round(expectedMessages)} messages`);
  return {
    result: {
      fanout,
      clients: clientsWanted,
      subscriptionsOpen: open,
      webhookSubscriptions: subscriptionCount,
      clientsPerWebhookSubscription: fanout,
      connectMs,
      messages,
      expectedMessages: Math.round(expectedMessages),
      latency,
      latencyMeasure: 'client receipt − (attempt.attemptedAt + attempt.durationMs)',
      machineBusyPercent: w.machineBusyPercent,
      clientErrors: errors,
      deliveredRateWithoutSubscribers: half?.deliveredRate ?? null,
      window: w,
    },
    rows: [
      row(`5 live ×${fanout}`, `${clientsWanted} graphql-ws clients (${fanout} per webhook subscription)`, open, 'open'),
      // The delivery rate holds: as fast as without subscribers (within 3%), and no backlog left.
      row(`5 live ×${fanout}`, `offered ${rate}/s: delivered (without subscribers ${half?.deliveredRate ?? '–'})`, w.deliveredRate, 'ev/s', {
        text: 'holds',
        pass: w.keptUp && w.deliveredRate >= 0.97 * (half?.deliveredRate ?? rate),
      }),
      row(`5 live ×${fanout}`, 'attempt→subscriber p50', latency.p50, 'ms'),
      row(`5 live ×${fanout}`, 'attempt→subscriber p99', latency.p99, 'ms', atMost(latency.p99, 20, 'ms')),
      row(`5 live ×${fanout}`, 'messages received / expected', `${messages} / ${Math.round(expectedMessages)}`, '', { text: '= expected', pass: messages >= expectedMessages }),
      row(`5 live ×${fanout}`, 'ingest→receiver p50 / p99', `${w.endToEnd?.p50} / ${w.endToEnd?.p99}`, 'ms'),
      row(`5 live ×${fanout}`, 'the cores in use, every process (the machine\'s CPU per delivery × delivered/s)', w.machineBusyPercent, '%'),
    ],
  };
}
