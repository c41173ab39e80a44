// How long the server takes to answer, measured where Node hands over a request and sees the
// answer's last byte written: the ingest latency a producer sees, less the network. Benchmarks
// compare it with their clients' figures to tell hookd's time from the client's own waits.
import type { Server } from 'node:http';
import type { Metrics } from '../core/metrics.ts';

/** A bounded label for a request path (never the path itself: ids would make every request a series). */
export function routeOf(path: string | undefined): string {
  const pathname = (path ?? '/').split('?', 1)[0]!;
  if (pathname === '/graphql') return 'graphql';
  if (pathname.startsWith('/api/')) return 'rest';
  if (pathname === '/health' || pathname === '/ready' || pathname === '/metrics') return pathname.slice(1);
  return 'static';
}

/** Methods as sent are client input: anything unusual shares one label. */
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/**
 * Whether a request may be answered with a stream (GraphQL over SSE, or incremental delivery),
 * open for as long as its client watches. Told by what it accepts: the answer's own headers are
 * not always readable (Yoga may write them in one writeHead call, which Node does not keep).
 */
export function asksForStream(accept: string | undefined): boolean {
  return accept !== undefined && (accept.includes('text/event-stream') || accept.includes('multipart/mixed'));
}

/** Observes every request's duration, except those that may be streams. */
export function observeRequests(server: Server, histogram: Metrics['requestDuration']): void {
  // Before the application's own listener, so the clock starts with the request.
  server.prependListener('request', (request, response) => {
    if (asksForStream(request.headers.accept)) return;
    const started = performance.now();
    response.once('finish', () => {
      histogram.observe(
        {
          route: routeOf(request.url),
          method: METHODS.has(request.method ?? '') ? request.method! : 'other',
          status: `${Math.floor(response.statusCode / 100)}xx`,
        },
        (performance.now() - started) / 1000,
      );
    });
  });
}
