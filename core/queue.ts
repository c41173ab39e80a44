// Delivery jobs on Bee-Queue. A job carries only the event id and the attempt number it is
// for; its job id is `<eventId>:<attempt>`, so enqueuing the same attempt twice (ingest and
// the sweeper, say) creates one job. PostgreSQL stays the source of truth: the worker
// re-reads the event and skips a job whose attempt has already been made.
import BeeQueue from 'bee-queue';

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

/** The producer side, used by the server (ingest) and by the worker (retries, sweeper). */
export class DeliveryQueue {
  readonly queue: BeeQueue<DeliveryJob>;

  constructor(options: QueueOptions) {
    // Bee-Queue owns its connections: it does not recognise an ioredis client.
    this.queue = new BeeQueue<DeliveryJob>(DELIVERY_QUEUE, {
      prefix: options.prefix,
      redis: { url: options.redisUrl },
      isWorker: false,
      getEvents: false,
      sendEvents: false,
      removeOnSuccess: true,
      removeOnFailure: true,
    });
    // Without a listener an unreachable Redis would be an unhandled 'error' event.
    this.queue.on('error', () => {});
  }

  private build(request: DeliveryRequest): BeeQueue.Job<DeliveryJob> {
    const job = this.queue.createJob({ eventId: request.eventId, attempt: request.attempt }).setId(jobId(request));
    if (request.notBefore && request.notBefore.getTime() > Date.now()) job.delayUntil(request.notBefore);
    return job;
  }

  /** Enqueues deliveries; rejects if Redis does not take them within a short time. */
  async enqueue(requests: DeliveryRequest[]): Promise<void> {
    if (requests.length === 0) return;
    const save =
      requests.length === 1
        ? this.build(requests[0]!).save().then(() => undefined)
        : this.queue.saveAll(requests.map((request) => this.build(request))).then((errors) => {
            if (errors.size > 0) throw [...errors.values()][0];
          });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`queue did not answer within ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
    });
    try {
      await Promise.race([save, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async ready(): Promise<void> {
    await this.queue.ready();
  }

  async close(): Promise<void> {
    await this.queue.close(1_000).catch(() => {});
  }
}

/** The consumer side: the worker's queue, which also activates delayed jobs. */
export function createDeliveryConsumer(options: QueueOptions): BeeQueue<DeliveryJob> {
  const queue = new BeeQueue<DeliveryJob>(DELIVERY_QUEUE, {
    prefix: options.prefix,
    redis: { url: options.redisUrl },
    isWorker: true,
    getEvents: false,
    sendEvents: false,
    activateDelayedJobs: true,
    removeOnSuccess: true,
    removeOnFailure: true,
    stallInterval: 5_000,
  });
  return queue;
}
