// Delivery jobs on Bee-Queue. A job carries only the event id and the attempt number it is
// for; its job id is `<eventId>:<attempt>`, so enqueuing the same attempt twice (ingest and
// the sweeper, say) creates one job. PostgreSQL stays the source of truth: the worker
// re-reads the event and skips a job whose attempt has already been made.
import BeeQueue from 'bee-queue';
// Bee-Queue's own script loader (no typings): the scripts and their SHAs are its, not ours.
// @ts-expect-error untyped internal module
import lua from 'bee-queue/lib/lua/index.js';

export const DELIVERY_QUEUE = 'deliveries';

export interface DeliveryJob {
  eventId: string;
  attempt: number;
}

export interface DeliveryRequest extends DeliveryJob {
  /** When the attempt is due; absent or past means now. */
  notBefore?: Date | null;
}

export interface QueueOptions {
  redisUrl: string;
  prefix: string;
}

/** How long an enqueue may take before ingest answers anyway; the sweeper catches up. */
const ENQUEUE_TIMEOUT_MS = 2_000;

export function jobId(job: DeliveryJob): string {
  return `${job.eventId}:${job.attempt}`;
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

  constructor(private readonly options: QueueOptions) {}

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

  private static build(queue: BeeQueue<DeliveryJob>, request: DeliveryRequest): BeeQueue.Job<DeliveryJob> {
    const job = queue.createJob({ eventId: request.eventId, attempt: request.attempt }).setId(jobId(request));
    if (request.notBefore && request.notBefore.getTime() > Date.now()) job.delayUntil(request.notBefore);
    return job;
  }

  /** Enqueues deliveries; rejects if Redis does not take them within a short time. */
  async enqueue(requests: DeliveryRequest[]): Promise<void> {
    if (requests.length === 0) return;
    const queue = await this.queue();
    const save = async () => {
      if (requests.length === 1) {
        await DeliveryQueue.build(queue, requests[0]!).save();
        return;
      }
      const errors = await queue.saveAll(requests.map((request) => DeliveryQueue.build(queue, request)));
      if (errors.size > 0) throw [...errors.values()][0];
    };
    await withTimeout(save(), ENQUEUE_TIMEOUT_MS, 'Redis (queue)');
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
      return await connectQueue(options, { isWorker: true, activateDelayedJobs: true, stallInterval: 5_000 }, 5_000);
    } catch (error) {
      if (shouldStop()) return null;
      onRetry(error as Error);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}
