// The API server: GraphQL over HTTP, SSE and WebSocket, REST, health, and the dashboard.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadConfigOrExit } from '../core/config.ts';
import { Subscriber } from '../core/pubsub.ts';
import { settleAnnouncements } from '../core/ingest.ts';
import { createRedis, createServices } from '../core/services.ts';
import { createApp } from './app.ts';
import { createTokenCheck } from './auth.ts';
import { WEB_DIST } from './static.ts';
import { attachWebSockets } from './websocket.ts';
import { observeRequests } from './request-metrics.ts';
import { withDirectRoutes } from './direct.ts';
import { graphqlJsonRoute } from './json-post.ts';
import { maxRequestBodyBytes } from './limits.ts';
import { restIngestRoute } from './rest.ts';

const config = loadConfigOrExit();
const services = createServices(config, 'server');
const subscriber = new Subscriber(createRedis(config, services.log, 'server-subscriber', 'subscriber'), config.queuePrefix, {
  announce: (topic) => services.publisher.announce(topic),
});
// Channels are subscribed when watched; while Redis is away, live updates start when it answers.
subscriber.start().catch((error) => services.log.error('could not subscribe to live updates', { error: (error as Error).message }));

const checkToken = createTokenCheck(config.apiTokens);
const app = createApp(services, subscriber, checkToken);
// The hottest requests beside Yoga's HTTP layer (server/direct.ts); everything else through it.
const routes = [graphqlJsonRoute(app, maxRequestBodyBytes(config), services.log), restIngestRoute(services)];
const server = createServer(withDirectRoutes(app, { routes, checkToken, log: services.log }));
observeRequests(server, services.metrics.requestDuration);
const wsServer = attachWebSockets(server, app, checkToken);

if (config.apiTokens.length === 0) {
  services.log.warn('API_TOKENS is not set: the API is open to anyone who can reach it');
}

server.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  services.log.info('server ready', {
    url: `http://localhost:${port}/`,
    graphql: `http://localhost:${port}/graphql`,
    dashboard: existsSync(WEB_DIST) ? `http://localhost:${port}/` : 'not built (no web/dist)',
  });
});

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  services.log.info('server stopping', { signal });
  // Stop accepting, let open requests finish, then end live connections.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  for (const client of wsServer.clients) client.close(1001, 'server shutting down');
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
  server.closeAllConnections();
  // Jobs and live updates of the last events accepted (their rows are committed either way).
  await Promise.race([settleAnnouncements(), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  await services.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
