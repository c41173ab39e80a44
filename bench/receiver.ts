// The benchmark's webhook receiver, a process of its own: answers 200 `ok` (or, when told to,
// 500 to the first request of some webhook-ids), and records per payload `tag` how many
// requests arrived, how many events got through, and the ingest→receiver latency of each event
// (arrival time minus the `sentAt` the load generator put in the payload).
//
//   node --import tsx bench/receiver.ts [--fail-fraction=0.5]   → prints {"port":N} on stdout
//   GET  /stats?tag=T[&latency=1][&samples=1]   counts (and latency summary / raw samples) of one tag
//   GET  /stats                                 counts of every tag
//   POST /reset {"failFraction":0.5}            forgets everything; sets the failure mode
import { createServer } from 'node:http';
import { nowMs, summarize } from './lib/stats.ts';

interface TagStats {
  requests: number;
  ok: number;
  failed: number;
  /** Events answered 200 at least once. */
  delivered: Set<string>;
  /** Events seen at all (any answer). */
  seen: Set<string>;
  duplicates: number;
  /** ingest→receiver latency (ms) of each event's first request. */
  latencies: number[];
  firstArrival: number | null;
  lastArrival: number | null;
  lastDelivered: number | null;
}

const tags = new Map<string, TagStats>();
let failFraction = Number(/^--fail-fraction=(.+)$/.exec(process.argv.find((arg) => arg.startsWith('--fail-fraction=')) ?? '')?.[1] ?? 0);

function statsOf(tag: string): TagStats {
  let stats = tags.get(tag);
  if (!stats) {
    stats = { requests: 0, ok: 0, failed: 0, delivered: new Set(), seen: new Set(), duplicates: 0, latencies: [], firstArrival: null, lastArrival: null, lastDelivered: null };
    tags.set(tag, stats);
  }
  return stats;
}

/** Whether this webhook-id is one of the `failFraction` whose first request fails (by its last hex digits). */
function failsFirst(id: string): boolean {
  if (failFraction <= 0) return false;
  const bits = Number.parseInt(id.replace(/-/g, '').slice(-4), 16);
  return Number.isFinite(bits) && bits / 0x10000 < failFraction;
}

function counts(stats: TagStats) {
  return {
    requests: stats.requests,
    ok: stats.ok,
    failed: stats.failed,
    delivered: stats.delivered.size,
    seen: stats.seen.size,
    duplicates: stats.duplicates,
    firstArrival: stats.firstArrival,
    lastArrival: stats.lastArrival,
    lastDelivered: stats.lastDelivered,
  };
}

const server = createServer((request, response) => {
  const arrival = nowMs();
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const url = new URL(request.url ?? '/', 'http://receiver');
    if (request.method === 'GET' && url.pathname === '/stats') {
      const tag = url.searchParams.get('tag');
      let body: unknown;
      if (tag === null) {
        body = { tags: Object.fromEntries([...tags].map(([name, stats]) => [name, counts(stats)])) };
      } else {
        const stats = statsOf(tag);
        body = {
          ...counts(stats),
          latency: url.searchParams.get('latency') === '1' ? summarize(stats.latencies) : undefined,
          samples: url.searchParams.get('samples') === '1' ? stats.latencies : undefined,
        };
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    if (request.method === 'POST' && url.pathname === '/reset') {
      tags.clear();
      try {
        const options = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { failFraction?: number };
        failFraction = Number(options.failFraction ?? 0);
      } catch {
        failFraction = 0;
      }
      response.writeHead(204).end();
      return;
    }
    let tag = 'untagged';
    let sentAt: number | undefined;
    try {
      const payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { tag?: unknown; sentAt?: unknown };
      if (typeof payload.tag === 'string') tag = payload.tag;
      if (typeof payload.sentAt === 'number') sentAt = payload.sentAt;
    } catch {
      // not JSON: counted as untagged
    }
    const id = String(request.headers['webhook-id'] ?? '');
    const stats = statsOf(tag);
    stats.requests += 1;
    stats.firstArrival ??= arrival;
    stats.lastArrival = arrival;
    const first = !stats.seen.has(id);
    if (first) {
      stats.seen.add(id);
      if (sentAt !== undefined) stats.latencies.push(arrival - sentAt);
    }
    if (first && failsFirst(id)) {
      stats.failed += 1;
      response.writeHead(500, { 'content-type': 'text/plain' }).end('fail');
      return;
    }
    stats.ok += 1;
    if (stats.delivered.has(id)) stats.duplicates += 1;
    else stats.delivered.add(id);
    stats.lastDelivered = arrival;
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
