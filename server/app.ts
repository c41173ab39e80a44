// Builds the HTTP application: GraphQL (HTTP and SSE) at /graphql, REST under /api, health
// checks, and the dashboard. main.ts listens; tests can call `app.fetch()` without a socket.
import { GraphQLError } from 'graphql';
import { createYoga, maskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { PothosValidationError } from '@pothos/core';
import { isDatabaseUnavailable } from '../core/db.ts';
import { readiness, readinessAnswer } from '../core/health.ts';
import { metricsResponse } from '../core/metrics.ts';
import { VERSION, type Services } from '../core/services.ts';
import type { Subscriber } from '../core/pubsub.ts';
import { createLoaders, type Context } from './context.ts';
import { createTokenCheck, unauthenticatedResponse, type TokenCheck } from './auth.ts';
import { GRAPHQL_BATCHING, bodyLimitPlugin, graphqlLimitPlugins, maxRequestBodyBytes } from './limits.ts';
import { handleRest, toResponse } from './rest.ts';
import { schema } from './schema/index.ts';
import { sharedSubscriptionsPlugin } from './shared-subscriptions.ts';
import { directSubscribePlugin } from './direct-subscribe.ts';
import { createStaticHandler } from './static.ts';

export type App = YogaServerInstance<Record<string, unknown>, Context>;

/** A browser opening /graphql gets GraphiQL without a token; it sends the token itself. */
function isGraphiqlPage(request: Request): boolean {
  return request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
}

function routesPlugin(services: Services, checkToken: TokenCheck): Plugin {
  const serveStatic = createStaticHandler();
  return {
    async onRequest({ request, url, endResponse }) {
      // Open to all: liveness, and whether the dashboard must ask for a token before calling the API.
      if (url.pathname === '/health') {
        return endResponse(Response.json({ status: 'ok', version: VERSION, authRequired: services.config.apiTokens.length > 0 }));
      }
      if (url.pathname === '/ready') {
        const { status, body } = readinessAnswer(await readiness(services));
        return endResponse(Response.json(body, { status }));
      }
      if (url.pathname === '/metrics') return endResponse(await metricsResponse(services.metrics));
      const isApi = url.pathname === '/graphql' || url.pathname.startsWith('/api/');
      if (isApi && !isGraphiqlPage(request) && !checkToken(request.headers.get('authorization'))) {
        return endResponse(unauthenticatedResponse());
      }
      if (url.pathname.startsWith('/api/')) {
        const answer = await handleRest(services, request, url);
        return endResponse(answer ? toResponse(answer) : Response.json({ error: `no route for ${url.pathname}` }, { status: 404 }));
      }
      if (url.pathname !== '/graphql' && request.method === 'GET') {
        const response = serveStatic ? await serveStatic(url) : null;
        if (response) return endResponse(response);
        // No dashboard built: the root leads to GraphiQL.
        if (url.pathname === '/') return endResponse(Response.redirect(new URL('/graphql', url), 302));
      }
    },
  };
}

/** `checkToken`: the one the process's other listeners (direct routes, WebSockets) use, so the tokens are hashed once. */
export function createApp(services: Services, subscriber: Subscriber, checkToken: TokenCheck = createTokenCheck(services.config.apiTokens)): App {
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    context: () => ({ services, subscriber, loaders: createLoaders(services) }),
    graphiql: { title: 'hookd' },
    logging: {
      debug: (...args) => services.log.debug(args.map(String).join(' ')),
      info: (...args) => services.log.info(args.map(String).join(' ')),
      warn: (...args) => services.log.warn(args.map(String).join(' ')),
      error: (...args) => services.log.error(args.map(String).join(' ')),
    },
    maskedErrors: {
      // Bad connection arguments are the client's mistake, said as such; the rest stays masked.
      maskError(error, message, isDev) {
        const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
        if (original instanceof PothosValidationError) {
          return new GraphQLError(original.message, { extensions: { code: 'BAD_USER_INPUT' } });
        }
        if (isDatabaseUnavailable(original)) {
          return new GraphQLError('The database is unavailable; try again shortly', { extensions: { code: 'SERVICE_UNAVAILABLE' } });
        }
        if (error instanceof GraphQLError && error.originalError && !(error.originalError instanceof GraphQLError)) {
          services.log.error('unexpected error in a resolver', { path: error.path?.join('.'), error: error.originalError.message });
        }
        return maskError(error, message, isDev);
      },
    },
    batching: GRAPHQL_BATCHING,
    // bodyLimitPlugin enforces the limit (by Content-Length, or counting a chunked body). Yoga's
    // own check would also pipe every body through a stream transform and build a new Request:
    // about 5% of the server's CPU per ingest request.
    maxRequestBodySize: false,
    plugins: [
      bodyLimitPlugin(maxRequestBodyBytes(services.config)),
      routesPlugin(services, checkToken),
      ...graphqlLimitPlugins(services.config),
      // Replaces the engine's subscribe; the shared plugin then wraps this one.
      directSubscribePlugin(),
      // Last: it wraps the subscribe function the others leave.
      sharedSubscriptionsPlugin(services.metrics.liveSubscribers),
    ],
  });
}
