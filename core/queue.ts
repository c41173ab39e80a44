// Delivery jobs on Bee-Queue. A job carries event ids and the attempt due for each, nothing
// more: PostgreSQL stays the source of truth, and the worker skips an attempt that has already
// been made. A job for one attempt has the id `<eventId>:<attempt>`, so enqueuing the same
// attempt twice (a retry and the sweeper, say) creates one job. First attempts enqueued
// together (an ingest batch, or concurrent ingests) share a job of up to 20, which saves Redis
// and the worker a round of queue work per event, and so do retries enqueued together that are
// due within RETRY_GROUP_WINDOW_MS of each other (the failures of one record batch); a
// duplicate of one of them is harmless, because only one claim of an attempt succeeds.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import BeeQueue from 'bee-queue';
// Bee-Queue's own script loader (no typings): the scripts and their SHAs are its, not ours.
// @ts-expect-error untyped internal module
import lua from 'bee-queue/lib/lua/index.js';
import { Batcher } from './batcher.ts';

/**
 * Bee-Queue's Redis clients (node_redis 3) get an 'error' listener from birth. Bee-Queue adds
 * its own only once a client is ready, and waits for 'ready' with a listener that removes
 * itself at the first error; a connection reset during the ready check makes node_redis emit
 * two ('… failed - read ECONNRESET', then 'Ready check failed'), and the second, with no
 * listener left, killed the process (a worker enqueuing retries while Redis restarted).
 * Errors still reach Bee-Queue's listeners and every command's callback; this only keeps one
 * from being unhandled.
 */
const nodeRedis = createRequire(import.meta.url)('redis') as { createClient: (...args: unknown[]) => { on(event: 'error', listener: () => void): unknown } };
const createRedisClient = nodeRedis.createClient;
nodeRedis.createClient = (...args: unknown[]) => {
  const client = createRedisClient.apply(nodeRedis, args);
  client.on('error', () => {});
  return client;
};

export const DELIVERY_QUEUE = 'deliveries';

/** One attempt of one event. */
export interface Delivery {
  eventId: string;
  attempt: number;
}

/** A job's data. */
export interface DeliveryJob {
  deliveries: Delivery[];
}

export interface DeliveryRequest extends Delivery {
  /** When the attempt is due; absent or past means now. */
  notBefore?: Date | null;
}

/** Deliveries waiting for a shared job beyond which enqueue refuses more (they stay due in PostgreSQL). */
const MAX_WAITING_DELIVERIES = 20_000;

/** Most deliveries one job carries. */
export const MAX_DELIVERIES_PER_JOB = 20;

/**
 * Retries due within this long of each other may share a job, which is due when the last of
 * them is: none runs early, and none later than this (against a schedule of seconds at least).
 */
export const RETRY_GROUP_WINDOW_MS = 250;

export interface QueueOptions {
  redisUrl: string;
  prefix: string;
}

/** How long an enqueue may take before ingest answers anyway; the sweeper catches up. */
const ENQUEUE_TIMEOUT_MS = 2_000;

export function jobId(delivery: Delivery): string {
  return `${delivery.eventId}:${delivery.attempt}`;
}

/**
 * The jobs for some requests: the due ones in jobs of up to MAX_DELIVERIES_PER_JOB, and the
 * delayed ones, in order of their times, in jobs of up to as many due within
 * RETRY_GROUP_WINDOW_MS of the first (the job is due with the last); unless `shared` is false,
 * then each alone. A job of one keeps its attempt's id.
 */
export function planJobs(requests: DeliveryRequest[], now: number, shared = true): { id: string; deliveries: Delivery[]; notBefore: Date | null }[] {
  const delivery = (request: DeliveryRequest): Delivery => ({ eventId: request.eventId, attempt: request.attempt });
  const isDelayed = (request: DeliveryRequest) => request.notBefore != null && request.notBefore.getTime() > now;
  const delayed = requests.filter(isDelayed).sort((a, b) => a.notBefore!.getTime() - b.notBefore!.getTime());
  const due = requests.filter((request) => !isDelayed(request));
  const size = shared ? MAX_DELIVERIES_PER_JOB : 1;
  const dueGroups: DeliveryRequest[][] = [];
  for (let start = 0; start < due.length; start += size) dueGroups.push(due.slice(start, start + size));
  const delayedGroups: DeliveryRequest[][] = [];
  for (const request of delayed) {
    const group = delayedGroups[delayedGroups.length - 1];
    const fits = group && group.length < size && request.notBefore!.getTime() - group[0]!.notBefore!.getTime() <= RETRY_GROUP_WINDOW_MS;
    if (fits) group.push(request);
    else delayedGroups.push([request]);
  }
  const job = (group: DeliveryRequest[], notBefore: Date | null) => ({
    id: group.length === 1 ? jobId(group[0]!) : `group:${randomUUID()}`,
    deliveries: group.map(delivery),
    notBefore,
  });
  return [...dueGroups.map((group) => job(group, null)), ...delayedGroups.map((group) => job(group, group[group.length - 1]!.notBefore!))];
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Connects a Bee-Queue. Bee-Queue owns its connections (it does not recognise an ioredis
 * client) and gives up if Redis is down when it first connects, so callers retry with a new one.
 */
async function connectQueue(options: QueueOptions, settings: BeeQueue.QueueSettings, timeoutMs: number): Promise<BeeQueue<DeliveryJob>> {
  const queue = new BeeQueue<DeliveryJob>(DELIVERY_QUEUE, {
    prefix: options.prefix,
    redis: { url: options.redisUrl },
    getEvents: false,
    sendEvents: false,
    // Bee-Queue keeps every job it saves in a map, to match job events that we never ask for:
    // without this, a process that enqueues holds every job it ever enqueued (a leak).
    storeJobs: false,
    removeOnSuccess: true,
    removeOnFailure: true,
    autoConnect: false,
    ...settings,
  });
  // Without a listener a lost connection would be an unhandled 'error' event.
  queue.on('error', () => {});
  // connect() never settles when Redis refuses; the promise behind ready() rejects instead.
  void queue.connect();
  const ready = queue.ready();
  ready.catch(() => {});
  try {
    await withTimeout(ready, timeoutMs, 'Redis (queue)');
    reloadScriptsOnReconnect(queue);
    return queue;
  } catch (error) {
    void queue.close(0).catch(() => {});
    throw error;
  }
}

/**
 * Bee-Queue loads its Lua scripts once, at connect, and runs them by SHA: a Redis restarted
 * empty (or a failover) answers NOSCRIPT to every enqueue from then on. Load them again
 * whenever its command connection comes back.
 */
function reloadScriptsOnReconnect(queue: BeeQueue<DeliveryJob>): void {
  const client = (queue as unknown as { client: { on(event: 'ready', listener: () => void): void } }).client;
  client.on('ready', () => {
    lua.buildCache(client).catch(() => {});
  });
}

/** The producer side, used by the server (ingest) and by the worker (retries, sweeper). */
export class DeliveryQueue {
  private connecting: Promise<BeeQueue<DeliveryJob>> | null = null;
  /** Deliveries from concurrent callers (first attempts, retries), gathered into shared jobs. */
  private readonly shared: Batcher<DeliveryRequest, null>;

  constructor(private readonly options: QueueOptions) {
    this.shared = new Batcher({ run: async (requests) => {
      await this.save(planJobs(requests, Date.now()));
      return requests.map(() => null);
    }, maxBatch: 1_000, maxInFlight: 2 });
  }

  private queue(): Promise<BeeQueue<DeliveryJob>> {
    if (!this.connecting) {
      this.connecting = connectQueue(this.options, { isWorker: false }, ENQUEUE_TIMEOUT_MS);
      // A failed connection is forgotten, so the next enqueue tries again.
      this.connecting.catch(() => {
        this.connecting = null;
      });
    }
    return this.connecting;
  }

  private async save(jobs: ReturnType<typeof planJobs>): Promise<void> {
    if (jobs.length === 0) return;
    const queue = await this.queue();
    const built = jobs.map((planned) => {
      const job = queue.createJob({ deliveries: planned.deliveries }).setId(planned.id);
      if (planned.notBefore) job.delayUntil(planned.notBefore);
      return job;
    });
    const save = async () => {
      if (built.length === 1) {
        await built[0]!.save();
        return;
      }
      const errors = await queue.saveAll(built);
      if (errors.size > 0) throw [...errors.values()][0];
    };
    await withTimeout(save(), ENQUEUE_TIMEOUT_MS, 'Redis (queue)');
  }

  /**
   * Enqueues deliveries; rejects if Redis does not take them within a short time. `shared`:
   * deliveries may share jobs with each other and with other callers' (the sweeper says no,
   * so that its jobs keep their attempts' ids).
   */
  async enqueue(requests: DeliveryRequest[], { shared = true }: { shared?: boolean } = {}): Promise<void> {
    if (requests.length === 0) return;
    if (!shared) return this.save(planJobs(requests, Date.now(), false));
    // Redis slow or away: do not pile up requests in memory; the sweeper enqueues them later.
    if (this.shared.waiting > MAX_WAITING_DELIVERIES) throw new Error(`Redis (queue) is behind: ${this.shared.waiting} deliveries wait to be enqueued`);
    await Promise.all(requests.map((request) => this.shared.add(request)));
  }

  /** Jobs waiting, active and delayed (for metrics); rejects while Redis is away. */
  async counts(): Promise<{ waiting: number; active: number; delayed: number }> {
    const health = await withTimeout((await this.queue()).checkHealth(), ENQUEUE_TIMEOUT_MS, 'Redis (queue)');
    return { waiting: health.waiting, active: health.active, delayed: health.delayed };
  }

  async close(): Promise<void> {
    const connecting = this.connecting;
    this.connecting = null;
    const queue = await connecting?.catch(() => null);
    await queue?.close(1_000).catch(() => {});
  }
}

/**
 * A job in progress tells Redis it is alive this often; one that stops (its worker died, or
 * Redis lost the reply that handed it out) is handed out again by the stalled-job check, which
 * must run every half of this (Bee-Queue's rule) to find it within two intervals.
 */
export const STALL_INTERVAL_MS = 5_000;

/**
 * The consumer side: the worker's queue, which also activates delayed jobs. Waits for Redis,
 * trying again every second, unless `shouldStop` says to give up.
 */
export async function connectDeliveryConsumer(
  options: QueueOptions,
  onRetry: (error: Error) => void,
  shouldStop: () => boolean,
): Promise<BeeQueue<DeliveryJob> | null> {
  for (;;) {
    try {
      return await connectQueue(options, { isWorker: true, activateDelayedJobs: true, stallInterval: STALL_INTERVAL_MS }, 5_000);
    } catch (error) {
      if (shouldStop()) return null;
      onRetry(error as Error);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/**
 * Moves the delayed jobs (retries) whose time has come to the waiting list, as Bee-Queue's own
 * timer does. That timer is re-armed only by a raise that succeeds or by a new delayed job
 * earlier than all others: one error while Redis restarts (NOSCRIPT, a lost connection) left
 * it unarmed for good, the retries already due stayed delayed, and the sweeper's jobs for them
 * found their ids taken. The worker calls this every SWEEP_INTERVAL; a success re-arms the
 * timer too. (A method of Bee-Queue 2.0's that its typings do not declare.)
 */
export function raiseDueDelayedJobs(consumer: BeeQueue<DeliveryJob>): void {
  (consumer as unknown as { _activateDelayed(): void })._activateDelayed();
}
