// The server's request-duration histogram, observed on a real HTTP server on loopback.
import { createServer, type Server } from 'node:http';
import { Histogram, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { asksForStream, observeRequests, routeOf } from '../../server/request-metrics.ts';

describe('routeOf', () => {
  it('groups paths into a few bounded labels', () => {
    expect(routeOf('/graphql')).toBe('graphql');
    expect(routeOf('/graphql?query=x')).toBe('graphql');
    expect(routeOf('/api/subscriptions/0190f0a4-0000-7000-8000-000000000000/events')).toBe('rest');
    expect(routeOf('/health')).toBe('health');
    expect(routeOf('/ready')).toBe('ready');
    expect(routeOf('/metrics')).toBe('metrics');
    expect(routeOf('/assets/index-abc.js')).toBe('static');
    expect(routeOf('/graphqlx')).toBe('static');
    expect(routeOf(undefined)).toBe('static');
  });
});

describe('asksForStream', () => {
  it('is true for requests that accept an event stream or multipart results', () => {
    expect(asksForStream('text/event-stream')).toBe(true);
    expect(asksForStream('application/json, text/event-stream')).toBe(true);
    expect(asksForStream('multipart/mixed; deferSpec=20220824, application/json')).toBe(true);
    expect(asksForStream('application/graphql-response+json, application/json')).toBe(false);
    expect(asksForStream(undefined)).toBe(false);
  });
});

describe('observeRequests', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  async function start(histogram: Histogram<'route' | 'method' | 'status'>) {
    server = createServer((request, response) => {
      if (request.headers.accept === 'text/event-stream') {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.end('data: {}\n\n');
        return;
      }
      // Answers after 30 ms, so the observed duration has a floor to check.
      setTimeout(() => response.writeHead(request.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' }).end('{}'), 30);
    });
    observeRequests(server, histogram);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  it('observes each answered request by route, method and status class, and leaves event streams out', async () => {
    const registry = new Registry();
    const histogram = new Histogram({ name: 'test_request_seconds', help: 'test', labelNames: ['route', 'method', 'status'] as const, buckets: [0.01, 0.1, 1], registers: [registry] });
    const url = await start(histogram);
    await (await fetch(`${url}/graphql`, { method: 'POST', body: '{}' })).text();
    await (await fetch(`${url}/graphql`, { method: 'POST', body: '{}' })).text();
    await (await fetch(`${url}/missing`)).text();
    await (await fetch(`${url}/graphql`, { method: 'POST', headers: { accept: 'text/event-stream' }, body: '{}' })).text();
    type Labels = { route: string; method: string; status: string };
    const value = async (name: string, labels: Labels) =>
      (await histogram.get()).values.find((v) => v.metricName === name && v.labels.route === labels.route && v.labels.method === labels.method && v.labels.status === labels.status)?.value;
    const count = (labels: Labels) => value('test_request_seconds_count', labels);
    const sum = async (labels: Labels) => (await value('test_request_seconds_sum', labels)) ?? 0;
    // 'finish' may come a moment after the client has read the whole answer.
    await expect.poll(() => count({ route: 'static', method: 'GET', status: '4xx' })).toBe(1);
    await expect.poll(() => count({ route: 'graphql', method: 'POST', status: '2xx' })).toBe(2);
    // The event stream is not in any series: three requests observed in all.
    const total = (await histogram.get()).values.filter((v) => v.metricName === 'test_request_seconds_count').reduce((all, v) => all + v.value, 0);
    expect(total).toBe(3);
    // Seconds, not milliseconds: two answers of at least 30 ms each, well under a second.
    expect(await sum({ route: 'graphql', method: 'POST', status: '2xx' })).toBeGreaterThanOrEqual(0.055);
    expect(await sum({ route: 'graphql', method: 'POST', status: '2xx' })).toBeLessThan(2);
  });
});
