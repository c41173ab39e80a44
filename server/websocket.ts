// GraphQL subscriptions over WebSocket (graphql-ws, protocol graphql-transport-ws) at /graphql.
import type { Server } from 'node:http';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { ExecutionArgs } from 'graphql';
import type { App } from './app.ts';
import { authorizationFromConnectionParams, type TokenCheck } from './auth.ts';

export function attachWebSockets(server: Server, app: App, checkToken: TokenCheck): WebSocketServer {
  const wsServer = new WebSocketServer({ server, path: app.graphqlEndpoint });
  useServer(
    {
      // Returning false closes the socket with 4403 Forbidden.
      onConnect: (ctx) => checkToken(authorizationFromConnectionParams(ctx.connectionParams)),
      execute: (args: ExecutionArgs) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args: ExecutionArgs) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = app.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
        });
        const args = {
          schema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return args;
      },
    },
    wsServer,
  );
  return wsServer;
}
