// Load generation against hookd's GraphQL API, and the measuring window every delivery stage uses.
import { cpus } from 'node:os';
import { CpuMeter, type CpuUse } from './proc.ts';
import { graphqlRequestBuckets, queueCounts, type BenchStack, type GraphQLClient, type ReceiverCounts } from './stack.ts';
import { bucketsBetween, histogramQuantile, nowMs, round, roundOrNull, sleep, summarize, type Buckets, type Summary } from './stats.ts';

export const INGEST_EVENT = `mutation Ingest($input: IngestEventInput!) {
  ingestEvent(input: $input) { __typename ... on Event { id } ... on Error { message } } }`;

export const INGEST_EVENTS = `mutation IngestMany($inputs: [IngestEventInput!]!) {
  ingestEvents(inputs: $inputs) { __typename ... on IngestedEvents { events { id } } ... on Error { message } } }`;

/** A webhook subscription delivering to the bench receiver. */
export async function createReceiverSubscription(stack: BenchStack, name: string, path = '/hook'): Promise<string> {
  const data = await stack.gql.data(
    `mutation($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) {
      __typename ... on WebhookSubscription { id } ... on ValidationError { message } } }`,
    { input: { name, targetUrl: `${stack.receiverUrl}${path}` } },
  );
  if (data.createWebhookSubscription.__typename !== 'WebhookSubscription') throw new Error(data.createWebhookSubscription.message);
  return data.createWebhookSubscription.id as string;
}

/** One ingestEvent call; the payload carries the tag and the send time for the receiver. */
export async function ingestOne(gql: GraphQLClient, subscriptionId: string, tag: string, seq: number) {
  const result = await gql.request(INGEST_EVENT, {
    input: { subscriptionId, eventType: 'bench.event', payload: { tag, seq, sentAt: nowMs() } },
  });
  const ok = result.status === 200 && result.data?.ingestEvent?.__typename === 'Event';
  return { ok, ms: result.ms, error: ok ? undefined : JSON.stringify(result.errors ?? result.data).slice(0, 200) };
}

/** One ingestEvents call carrying events `seqs`; every payload carries the tag and the send time. */
export async function ingestMany(gql: GraphQLClient, subscriptionIds: string[], tag: string, seqs: number[]) {
  const sentAt = nowMs();
  const result = await gql.request(INGEST_EVENTS, {
    inputs: seqs.map((seq) => ({ subscriptionId: subscriptionIds[seq % subscriptionIds.length]!, eventType: 'bench.event', payload: { tag, seq, sentAt } })),
  });
  const ok = result.status === 200 && result.data?.ingestEvents?.__typename === 'IngestedEvents';
  return { ok, ms: result.ms, error: ok ? undefined : JSON.stringify(result.errors ?? result.data).slice(0, 200) };
}

/**
 * How the open loop hands events over: `single` sends one ingestEvent request per event;
 * `batch` sends, at every tick, the events due since the last one in one ingestEvents request,
 * as a busy producer does.
 */
export type IngestMode = 'single' | 'batch';

export interface LoadResult {
  /** Rate asked for, events/s. */
  offeredRate: number;
  durationMs: number;
  sent: number;
  accepted: number;
  errors: number;
  /** Events not sent because too many requests were already waiting (the server fell far behind). */
  skipped: number;
  /** Accepted events per second of the window. */
  acceptedRate: number;
  mode: IngestMode;
  /** Requests made (one per event in single mode, one per tick in batch mode). */
  requests: number;
  /** ingestEvent / ingestEvents round trips, ms. */
  ingestLatency: Summary;
  maxInFlight: number;
  firstError?: string;
  startedAt: number;
  endedAt: number;
}

/**
 * Open loop: a timer fires every few ms and sends every event due since the start, whatever the
 * server's answers are doing, so a slow server does not slow the offered rate. Events go round
 * robin to `subscriptionIds`.
 */
export async function openLoop(
  gql: GraphQLClient,
  {
    rate,
    durationMs,
    subscriptionIds,
    tag,
    mode = 'batch',
    maxInFlight = 5_000,
  }: { rate: number; durationMs: number; subscriptionIds: string[]; tag: string; mode?: IngestMode; maxInFlight?: number },
): Promise<LoadResult> {
  const latencies: number[] = [];
  const pending = new Set<Promise<void>>();
  let sent = 0;
  let accepted = 0;
  let errors = 0;
  let skipped = 0;
  let maxSeen = 0;
  let firstError: string | undefined;
  const startedAt = nowMs();
  const total = Math.round((rate * durationMs) / 1000);
  const send = (seqs: number[]) => {
    sent += seqs.length;
    const call = mode === 'single' ? ingestOne(gql, subscriptionIds[seqs[0]! % subscriptionIds.length]!, tag, seqs[0]!) : ingestMany(gql, subscriptionIds, tag, seqs);
    const request = call
      .then((outcome) => {
        latencies.push(outcome.ms);
        if (outcome.ok) accepted += seqs.length;
        else {
          errors += seqs.length;
          firstError ??= outcome.error;
        }
      })
      .catch((error: Error) => {
        errors += seqs.length;
        firstError ??= error.message;
      })
      .finally(() => pending.delete(request));
    pending.add(request);
    maxSeen = Math.max(maxSeen, pending.size);
  };
  while (sent + skipped < total) {
    const due = Math.min(total, Math.floor(((nowMs() - startedAt) / 1000) * rate));
    while (sent + skipped < due) {
      const first = sent + skipped;
      const count = mode === 'single' ? 1 : Math.min(due - first, 1_000);
      if (pending.size >= maxInFlight) {
        skipped += count;
        continue;
      }
      send(Array.from({ length: count }, (_, index) => first + index));
    }
    await sleep(5);
  }
  const endedAt = nowMs();
  await Promise.all(pending);
  return {
    offeredRate: rate,
    durationMs: round(endedAt - startedAt),
    sent,
    accepted,
    errors,
    skipped,
    acceptedRate: round((accepted * 1000) / (endedAt - startedAt)),
    mode,
    requests: latencies.length,
    ingestLatency: summarize(latencies),
    maxInFlight: maxSeen,
    firstError,
    startedAt,
    endedAt,
  };
}

/** Closed loop: `clients` callers, each sending its next ingestEvent when the last is answered. */
export async function closedLoop(
  gql: GraphQLClient,
  { clients, durationMs, subscriptionId, tag }: { clients: number; durationMs: number; subscriptionId: string; tag: string },
) {
  const latencies: number[] = [];
  let errors = 0;
  let seq = 0;
  let firstError: string | undefined;
  const startedAt = nowMs();
  const deadline = startedAt + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (nowMs() < deadline) {
        try {
          const outcome = await ingestOne(gql, subscriptionId, tag, seq++);
          latencies.push(outcome.ms);
          if (!outcome.ok) {
            errors++;
            firstError ??= outcome.error;
          }
        } catch (error) {
          errors++;
          firstError ??= (error as Error).message;
        }
      }
    }),
  );
  const elapsed = nowMs() - startedAt;
  return {
    clients,
    durationMs: round(elapsed),
    requests: latencies.length,
    accepted: latencies.length - errors,
    errors,
    requestsPerSecond: round((latencies.length * 1000) / elapsed),
    latency: summarize(latencies),
    firstError,
  };
}

/** Waits until the receiver has `expected` events of `tag` (or `timeoutMs` passes); returns its counts. */
export async function waitDelivered(stack: BenchStack, tag: string, expected: number, timeoutMs: number): Promise<ReceiverCounts & { waitedMs: number }> {
  const started = nowMs();
  for (;;) {
    const counts = await stack.receiver.stats(tag);
    if (counts.delivered >= expected || nowMs() - started > timeoutMs) return { ...counts, waitedMs: round(nowMs() - started) };
    await sleep(100);
  }
}

export interface WindowResult {
  tag: string;
  load: LoadResult;
  /** Events delivered per second, from the window's start until the load's last answer. */
  deliveredRate: number;
  deliveredByEnd: number;
  backlogAtEnd: number;
  /** Backlog after a short drain (2 s in full mode): growing backlogs do not vanish in it. */
  backlogAfterDrain: number;
  drainMs: number;
  /** Whether every accepted event arrived before the next window (bounded wait). */
  drainedFully: boolean;
  drainedInMs: number;
  queueAtEnd: Record<string, number>;
  /** ingest (send) → receiver arrival, ms, of each event's first request. */
  endToEnd: Summary | undefined;
  cpu: Record<string, CpuUse>;
  keptUp: boolean;
  /** Offered so far − delivered, sampled during the window: [ms since start, backlog]. */
  backlogSeries: [number, number][];
  /**
   * The same ingest requests as the server timed them (its request-duration histogram, ms,
   * interpolated within buckets): what of the client's latency is hookd's, not the client's own
   * waits for a core. Null if the server's /metrics did not answer.
   */
  serverIngest: { count: number; p50: number | null; p99: number | null } | null;
  /**
   * The share of the cores every process used (the machine's CPU per delivery × delivered/s),
   * in %: the tail of a latency is mostly a wait for a core once they are nearly full.
   */
  machineBusyPercent: number | null;
}

/** Quantiles of the server's GraphQL request durations between two scrapes, in ms. */
function serverLatency(before: Buckets | null, after: Buckets | null): WindowResult['serverIngest'] {
  if (!before || !after) return null;
  const window = bucketsBetween(before, after);
  const ms = (q: number) => roundOrNull((histogramQuantile(window, q) ?? NaN) * 1000);
  return { count: window.at(-1)?.[1] ?? 0, p50: ms(0.5), p99: ms(0.99) };
}

/**
 * Offers `rate` events/s for `durationMs`, then measures what arrived, the backlog, and the CPU
 * hookd used, and waits (bounded) for the backlog to drain before the next window.
 */
export async function runWindow(
  stack: BenchStack,
  {
    rate,
    durationMs,
    subscriptionIds,
    tag,
    drainMs,
    maxDrainMs,
    mode,
  }: { rate: number; durationMs: number; subscriptionIds: string[]; tag: string; drainMs: number; maxDrainMs: number; mode: IngestMode },
): Promise<WindowResult> {
  const meter = new CpuMeter({ server: stack.server.pid!, worker: stack.worker.pid! });
  let accepted = 0;
  let polling = true;
  const startedAt = nowMs();
  const series: [number, number][] = [];
  const poller = (async () => {
    while (polling) {
      const counts = await stack.receiver.stats(tag).catch(() => null);
      if (counts) {
        const at = nowMs();
        series.push([Math.round(at - startedAt), Math.max(0, Math.round((rate * (at - startedAt)) / 1000) - counts.delivered)]);
      }
      await sleep(250);
    }
  })();
  const requestsBefore = await graphqlRequestBuckets(stack.serverUrl);
  const load = await openLoop(stack.gql, { rate, durationMs, subscriptionIds, tag, mode });
  const requestsAfter = await graphqlRequestBuckets(stack.serverUrl);
  accepted = load.accepted;
  const atEnd = await stack.receiver.stats(tag);
  const atEndAt = nowMs();
  polling = false;
  await poller;
  const queueAtEnd = await queueCounts(stack.workerUrl);
  await sleep(drainMs);
  const afterDrain = await stack.receiver.stats(tag);
  const drained = await waitDelivered(stack, tag, accepted, maxDrainMs);
  // CPU until the backlog is gone, per event delivered by then: stopped earlier, a window that
  // fell behind would count the ingest of events whose deliveries it did not count.
  const cpu = meter.stop(drained.delivered);
  const machinePer1k = cpu.machine?.cpuSecondsPer1kDeliveries;
  const final = await stack.receiver.stats(tag, { latency: true });

  // Delivered per second over the window (from the first send until the load's answers were all in).
  const deliveredRate = (atEnd.delivered * 1000) / (atEndAt - load.startedAt);
  const backlogAfterDrain = accepted - afterDrain.delivered;
  // Kept up: the server took the offered rate, at most 3% of the events (and no more than
  // 300 ms of them, so a long window is held to what a short one is) were still on their way
  // when the window ended, and a short drain empties the rest (a growing backlog would not).
  const keptUp =
    load.acceptedRate >= 0.97 * rate &&
    accepted - atEnd.delivered <= Math.max(20, Math.min(0.03 * accepted, 0.3 * rate)) &&
    backlogAfterDrain <= Math.max(20, rate * 0.1) &&
    load.errors <= load.sent * 0.01;
  return {
    tag,
    load,
    deliveredRate: round(deliveredRate),
    deliveredByEnd: atEnd.delivered,
    backlogAtEnd: accepted - atEnd.delivered,
    backlogAfterDrain,
    drainMs,
    drainedFully: drained.delivered >= accepted,
    drainedInMs: drained.waitedMs,
    queueAtEnd,
    endToEnd: final.latency,
    cpu,
    keptUp,
    backlogSeries: series,
    serverIngest: serverLatency(requestsBefore, requestsAfter),
    machineBusyPercent: machinePer1k == null ? null : round(((machinePer1k / 1000) * deliveredRate * 100) / cpus().length),
  };
}
