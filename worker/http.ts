// The worker's small HTTP side, for scrapers and orchestrators: GET /metrics (Prometheus),
// GET /health (200 while the process serves) and GET /ready (200 while it takes jobs and
// PostgreSQL and Redis answer, else 503 saying which does not). A port already taken (several
// workers on one host) is logged, not fatal.
import { createServer, type Server } from 'node:http';
import { readiness, readinessAnswer } from '../core/health.ts';
import type { Services } from '../core/services.ts';

/** Whether the worker takes delivery jobs: `connecting` until its queue is connected, `stopping` once it drains. */
export type JobIntake = 'ok' | 'connecting' | 'stopping';

export function startWorkerHttp(services: Services, port: number, intake: () => JobIntake): Server {
  const server = createServer(async (request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') {
      const body = await services.metrics.registry.metrics();
      response.writeHead(200, { 'content-type': services.metrics.registry.contentType }).end(body);
    } else if (request.method === 'GET' && request.url === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (request.method === 'GET' && request.url === '/ready') {
      const checked = await readiness(services);
      const jobs = intake();
      const { status, body } = readinessAnswer({ ready: checked.ready && jobs === 'ok', checks: { ...checked.checks, jobs } });
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    } else {
      response.writeHead(404).end();
    }
  });
  server.on('error', (error) => services.log.warn('worker metrics are not served', { port, error: error.message }));
  server.listen(port, services.config.host, () => {
    const address = server.address();
    services.log.info('worker metrics', { url: `http://localhost:${typeof address === 'object' && address ? address.port : port}/metrics` });
  });
  return server;
}
