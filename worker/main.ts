// The delivery worker: consumes delivery jobs, and runs the sweeper and attempt retention.
import type BeeQueue from 'bee-queue';
import { loadConfigOrExit } from '../core/config.ts';
import { createDispatcher, deliverEvent } from '../core/delivery.ts';
import { DeliveryStore } from '../core/delivery-store.ts';
import { Limiter } from '../core/limiter.ts';
import { STALL_INTERVAL_MS, connectDeliveryConsumer, raiseDueDelayedJobs, type DeliveryJob } from '../core/queue.ts';
import { createServices } from '../core/services.ts';
import { foldHourlyRollups } from '../core/stats.ts';
import { startWorkerHttp } from './http.ts';
import { deleteExpiredAttempts, deleteExpiredEvents, deleteExpiredRollups, disableFailingSubscriptions, foldEventCounts, foldTotals, sweep } from './maintenance.ts';
import { every } from './periodic.ts';

/** Retention and auto-disable are slow-moving: once a minute is plenty. */
const RETENTION_INTERVAL_MS = 60_000;
/**
 * Readers of event counts and delivery totals add up the changes since the last fold: keep them
 * to a few seconds' worth. Not much more often: a fold's upserts grow with the subscriptions
 * that changed, not with the events, so with 1,000 busy subscriptions folding every 500 ms
 * cost about four times the PostgreSQL CPU of folding every 2 s.
 */
const FOLD_INTERVAL_MS = 2_000;
/**
 * Each task's phase within its interval, so that no two of these bursts start together: the
 * folds take turns every second, the sweep comes half a second after one, and the minute
 * tasks a quarter of a second after one, between two sweeps and apart from each other.
 */
const PHASE_MS = {
  eventCountFold: 0,
  deliveryTotalFold: 1_000,
  sweep: 500,
  retention: 8_250,
  autoDisable: 23_250,
  hourlyFold: 38_250,
};

const config = loadConfigOrExit();
const services = createServices(config, 'worker', { dbPoolSize: Math.min(config.workerConcurrency, 20) });
const dispatcher = createDispatcher(config.deliveryTimeoutMs, config.workerConcurrency, config);
const stopSweeper = every(services, 'sweep', config.sweepIntervalMs, () => sweep(services), { phaseMs: PHASE_MS.sweep });
const stopRetention = every(
  services,
  'retention',
  RETENTION_INTERVAL_MS,
  async () => (await deleteExpiredAttempts(services)) + (await deleteExpiredEvents(services)) + (await deleteExpiredRollups(services)),
  { phaseMs: PHASE_MS.retention },
);
const stopAutoDisable = every(services, 'auto-disable', RETENTION_INTERVAL_MS, () => disableFailingSubscriptions(services), {
  phaseMs: PHASE_MS.autoDisable,
});
const stopFolding = every(services, 'event-count fold', FOLD_INTERVAL_MS, () => foldEventCounts(services), {
  quiet: true,
  phaseMs: PHASE_MS.eventCountFold,
});
const stopTotalFolding = every(services, 'delivery-total fold', FOLD_INTERVAL_MS, () => foldTotals(services), {
  quiet: true,
  phaseMs: PHASE_MS.deliveryTotalFold,
});
const stopHourFolding = every(services, 'hourly rollup fold', RETENTION_INTERVAL_MS, () => foldHourlyRollups(services.db), {
  quiet: true,
  phaseMs: PHASE_MS.hourlyFold,
});

let stopping = false;
let consumer: BeeQueue<DeliveryJob> | null = null;
/** True once the consumer takes jobs (for /ready). */
let takingJobs = false;
const http = startWorkerHttp(services, config.workerPort, () => (stopping ? 'stopping' : takingJobs ? 'ok' : 'connecting'));
const stopRaising = every(
  services,
  'delayed-job raise',
  config.sweepIntervalMs,
  async () => {
    if (consumer && !stopping) raiseDueDelayedJobs(consumer);
    return 0;
  },
  { quiet: true },
);

const store = new DeliveryStore(services, () => stopping);
const deliveries = new Limiter(config.workerConcurrency);

async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  services.log.info('worker stopping', { signal });
  // First take no new jobs; in-flight deliveries (each bounded by DELIVERY_TIMEOUT) finish.
  const closing = consumer?.close(config.deliveryTimeoutMs + 5_000).catch(() => {});
  await Promise.all([closing, stopSweeper(), stopRetention(), stopAutoDisable(), stopFolding(), stopTotalFolding(), stopHourFolding(), stopRaising()]);
  await dispatcher.close().catch(() => {});
  http.close();
  await services.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

consumer = await connectDeliveryConsumer(
  { redisUrl: config.redisUrl, prefix: config.queuePrefix },
  (error) => services.log.warn('waiting for Redis to take delivery jobs', { error: error.message }),
  () => stopping,
);
if (consumer && !stopping) {
  consumer.on('error', (error) => services.log.warn('queue connection problem', { error: error.message }));
  // A job carries one to MAX_DELIVERIES_PER_JOB deliveries; WORKER_CONCURRENCY bounds the
  // deliveries in flight (and so the connections to one target), whatever jobs they come from.
  consumer.process(config.workerConcurrency, async (job) => {
    await Promise.all(
      job.data.deliveries.map((delivery) =>
        deliveries.run(async () => {
          // Shutting down: leave what has not started. The event stays due in PostgreSQL and
          // the sweeper enqueues it again (a worker that restarts picks it up).
          if (stopping) return;
          try {
            await deliverEvent({ services, dispatcher, store }, delivery);
          } catch (error) {
            // The event stays as PostgreSQL has it; the sweeper retries it when it is due.
            services.log.error('delivery failed', { eventId: delivery.eventId, attempt: delivery.attempt, error });
          }
        }),
      ),
    );
  });
  consumer.checkStalledJobs(STALL_INTERVAL_MS / 2).catch(() => {});
  takingJobs = true;
  services.log.info('worker ready', { concurrency: config.workerConcurrency, queuePrefix: config.queuePrefix });
}
