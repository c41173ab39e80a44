// Prometheus metrics (prom-client), one registry per process, served at GET /metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DeliveryQueue } from './queue.ts';

export interface Metrics {
  registry: Registry;
  eventsIngested: Counter<'status'>;
  deliveries: Counter<'outcome'>;
  attemptDuration: Histogram;
  deliveryLag: Histogram;
  liveSubscribers: Gauge;
  /** HTTP requests the server answered, by route group, method and status class (server/request-metrics.ts). */
  requestDuration: Histogram<'route' | 'method' | 'status'>;
}

/** Process metrics (memory, CPU), hookd's own, and the queue's job counts read at each scrape. */
export function createMetrics(processName: string, queue: DeliveryQueue): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ process: processName });
  collectDefaultMetrics({ register: registry, prefix: 'hookd_' });
  const metrics: Metrics = {
    registry,
    eventsIngested: new Counter({
      name: 'hookd_events_ingested_total',
      help: 'Events accepted, by the status they started in',
      labelNames: ['status'],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'hookd_delivery_attempts_total',
      help: 'Delivery attempts, by outcome (success, failure)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    attemptDuration: new Histogram({
      name: 'hookd_attempt_duration_seconds',
      help: 'How long the receiver took to answer (or fail) an attempt',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    deliveryLag: new Histogram({
      name: 'hookd_delivery_lag_seconds',
      help: "Time from an event's creation to its first attempt",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 300],
      registers: [registry],
    }),
    liveSubscribers: new Gauge({
      name: 'hookd_live_subscribers',
      help: 'GraphQL subscriptions (WebSocket and SSE) open on this server',
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'hookd_http_request_duration_seconds',
      help: 'Time from a request read to its answer written, by route (graphql, rest, health, ready, metrics, static), method and status class; requests that accept a stream (SSE, multipart) are not counted',
      labelNames: ['route', 'method', 'status'],
      // Fine below 50 ms, where the ingest targets are (p99 10 ms).
      buckets: [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
  new Gauge({
    name: 'hookd_queue_jobs',
    help: 'Delivery jobs in Redis, by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await queue.counts().catch(() => null);
      if (!counts) return;
      for (const state of ['waiting', 'active', 'delayed'] as const) this.set({ state }, counts[state]);
    },
  });
  return metrics;
}

export async function metricsResponse(metrics: Metrics): Promise<Response> {
  return new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } });
}
