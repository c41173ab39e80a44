// The urql client: Graphcache, HTTP for queries and mutations, graphql-ws for subscriptions.
// One client per token: signing in or out makes a new one.
import { Client, fetchExchange, mapExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import schema from 'virtual:schema';
import { authorizationHeader, connectionParams } from './lib/auth.ts';
import { createCacheExchange } from './cache.ts';
import { FORBIDDEN_CLOSE_CODE, isCloseEvent, retryDelay, shouldRetry, websocketUrl } from './lib/connection.ts';

export type ConnectionState = 'live' | 'reconnecting';

export interface ClientOptions {
  getToken: () => string | null;
  onConnectionChange: (state: ConnectionState) => void;
  /** Called after the socket connects again following a drop: whatever was missed must be fetched. */
  onReconnected: () => void;
  /** The API refused the token (HTTP 401, or the socket closed with 4403). */
  onUnauthenticated: () => void;
}

export interface ClientHandle {
  client: Client;
  dispose: () => void;
}

export function createApiClient(options: ClientOptions): ClientHandle {
  let disposed = false;
  let hasConnected = false;
  const ws: WsClient = createWsClient({
    url: websocketUrl(window.location),
    // Connect at once, so the indicator tells the truth before any page subscribes.
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Infinity,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, retryDelay(retries))),
    shouldRetry,
    // Read at each connection, so a new token needs no reload.
    connectionParams: () => connectionParams(options.getToken()),
    onNonLazyError: (error) => {
      if (!disposed && isCloseEvent(error) && error.code === FORBIDDEN_CLOSE_CODE) options.onUnauthenticated();
    },
    on: {
      connecting: () => {
        if (!disposed) options.onConnectionChange('reconnecting');
      },
      connected: () => {
        if (disposed) return;
        options.onConnectionChange('live');
        if (hasConnected) options.onReconnected();
        hasConnected = true;
      },
      closed: (event) => {
        if (disposed) return;
        options.onConnectionChange('reconnecting');
        if (isCloseEvent(event) && event.code === FORBIDDEN_CLOSE_CODE) options.onUnauthenticated();
      },
    },
  });

  const client = new Client({
    url: '/graphql',
    requestPolicy: 'cache-and-network',
    fetchOptions: () => ({ headers: authorizationHeader(options.getToken()) }),
    exchanges: [
      mapExchange({
        onError(error) {
          const unauthenticated =
            error.response?.status === 401 || error.graphQLErrors.some((graphQLError) => graphQLError.extensions?.code === 'UNAUTHENTICATED');
          if (unauthenticated && !disposed) options.onUnauthenticated();
        },
      }),
      createCacheExchange(schema),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });

  return {
    client,
    dispose() {
      disposed = true;
      void ws.dispose();
    },
  };
}
