// GET /metrics on the server and on the worker, in Prometheus' text format.
import { describe, expect, it } from 'vitest';
import { createSubscription, ingest, stack, waitForEventStatus } from '../helpers/api.ts';
import { subscribeWs } from '../helpers/live.ts';
import { TestReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

const receiver = TestReceiver.forFile();

/** The value of one sample line, e.g. `hookd_delivery_attempts_total{outcome="success",process="worker"}`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

const scrape = async (url: string) => {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/text\/plain/);
  return response.text();
};

describe('metrics', () => {
  it('counts ingests and live subscribers on the server, deliveries, durations and lag on the worker', async () => {
    const serverBefore = await scrape(stack().url);
    const workerBefore = await scrape(stack().workerUrl);
    const subscription = await createSubscription({ targetUrl: `${receiver.url}/metrics`, eventTypes: ['metrics.*'] });
    const event = await ingest({ subscriptionId: subscription.id, eventType: 'metrics.one', payload: {} });
    await waitForEventStatus(event.id, 'DELIVERED');

    const server = await scrape(stack().url);
    expect(sample(server, 'hookd_events_ingested_total', { status: 'PENDING' })).toBeGreaterThan(sample(serverBefore, 'hookd_events_ingested_total', { status: 'PENDING' }) ?? 0);
    expect(sample(server, 'hookd_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(server).toMatch(/^hookd_queue_jobs\{state="waiting",process="server"\} \d+$/m);
    // The ingest request is in the request-duration histogram (other test files share the server: at least one more).
    const graphqlPosts = { route: 'graphql', method: 'POST', status: '2xx' };
    expect(sample(server, 'hookd_http_request_duration_seconds_count', graphqlPosts)).toBeGreaterThan(sample(serverBefore, 'hookd_http_request_duration_seconds_count', graphqlPosts) ?? 0);
    expect(sample(server, 'hookd_http_request_duration_seconds_bucket', { ...graphqlPosts, le: '+Inf' })).toBe(sample(server, 'hookd_http_request_duration_seconds_count', graphqlPosts));

    const worker = await waitFor(async () => {
      const text = await scrape(stack().workerUrl);
      return (sample(text, 'hookd_delivery_attempts_total', { outcome: 'success' }) ?? 0) > (sample(workerBefore, 'hookd_delivery_attempts_total', { outcome: 'success' }) ?? 0) && text;
    });
    expect(sample(worker, 'hookd_attempt_duration_seconds_count')).toBeGreaterThan(0);
    expect(sample(worker, 'hookd_delivery_lag_seconds_count')).toBeGreaterThan(0);

    const watcher = subscribeWs(`subscription { eventsUpdated { id } }`);
    try {
      await waitFor(async () => (sample(await scrape(stack().url), 'hookd_live_subscribers') ?? 0) >= 1, { what: 'a live subscriber counted' });
    } finally {
      await watcher.close();
    }
  });
});
