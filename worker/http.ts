// The worker's small HTTP side: GET /metrics (Prometheus) and GET /health, for scrapers and
// orchestrators. A port already taken (several workers on one host) is logged, not fatal.
import { createServer, type Server } from 'node:http';
import type { Services } from '../core/services.ts';

export function startWorkerHttp(services: Services, port: number): Server {
  const server = createServer(async (request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') {
      const body = await services.metrics.registry.metrics();
      response.writeHead(200, { 'content-type': services.metrics.registry.contentType }).end(body);
    } else if (request.method === 'GET' && request.url === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
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
