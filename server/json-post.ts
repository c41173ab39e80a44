// GraphQL over a plain JSON POST (what producers and scripts send: one query or mutation,
// answered as JSON), answered beside Yoga's HTTP layer (server/direct.ts) through Yoga's envelop,
// as graphql-ws is. Everything GraphQL stays the same: the cached parse and validation, the
// limits, error masking, the context; the answer is Yoga's own (`processRegularResult`: its
// status rules, its JSON without internal extensions).
//
// Left to Yoga: other media types, streams (SSE, subscriptions), batches, and documents that do
// not parse or validate, so every error answer but a thrown one is Yoga's.
import type { IncomingMessage } from 'node:http';
import { getOperationAST, type DocumentNode, type ExecutionResult } from 'graphql';
import { processRegularResult } from 'graphql-yoga';
import type { Logger } from '../core/log.ts';
import type { App } from './app.ts';
import type { DirectAnswer, DirectRoute } from './direct.ts';

/** The media type Yoga answers with for an Accept header this path takes, or null. */
export function plainAnswerType(accept: string | undefined): 'application/json' | 'application/graphql-response+json' | null {
  // Yoga picks the last match over its processors, so `*/*` (and no header) gets application/json.
  if (accept === undefined) return 'application/json';
  const type = accept.replace(/\s/g, '').toLowerCase().replace(/;charset=utf-8$/, '');
  if (type === '*/*' || type === 'application/json') return 'application/json';
  if (type === 'application/graphql-response+json') return 'application/graphql-response+json';
  return null;
}

function isJsonContent(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.replace(/\s/g, '').toLowerCase();
  return type === 'application/json' || type === 'application/json;charset=utf-8';
}

interface PlainParams {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

/** The body as Yoga would take it without complaint, or null (Yoga then answers it, errors included). */
export function plainParams(body: unknown): PlainParams | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  for (const key of Object.keys(body)) if (key !== 'query' && key !== 'variables' && key !== 'operationName') return null;
  const { query, variables, operationName } = body as Record<string, unknown>;
  if (typeof query !== 'string') return null;
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return null;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return null;
  return body as PlainParams;
}

/** What `processRegularResult` needs of a Fetch API: its answer's body and init, taken as they are. */
class PlainAnswer {
  constructor(
    readonly body: string | null,
    readonly init: { status?: number; headers?: Record<string, string> } = {},
  ) {}
}
const plainFetchAPI = { Response: PlainAnswer } as unknown as Parameters<typeof processRegularResult>[1];

/** Plain JSON POSTs to the GraphQL endpoint, answered through Yoga's envelop. */
export function graphqlJsonRoute(app: App, maxBodyBytes: number, log: Logger): DirectRoute {
  const answer = async (request: IncomingMessage, body: Buffer, answerType: string): Promise<DirectAnswer | null> => {
    let params: PlainParams | null;
    try {
      params = plainParams(JSON.parse(body.toString('utf8')));
    } catch {
      params = null;
    }
    if (!params) return null;
    const { schema, parse, validate, contextFactory, execute } = app.getEnveloped({ req: request, params });
    let document: DocumentNode;
    try {
      document = parse(params.query);
    } catch {
      return null;
    }
    const operation = getOperationAST(document, params.operationName);
    if (!operation || operation.operation === 'subscription' || validate(schema, document).length > 0) return null;
    const result = (await execute({
      schema,
      document,
      contextValue: await contextFactory(),
      variableValues: params.variables,
      operationName: params.operationName,
    })) as ExecutionResult;
    const { body: text, init } = processRegularResult(result, plainFetchAPI, answerType) as unknown as PlainAnswer;
    return { status: init.status ?? 200, headers: init.headers ?? {}, body: text ?? '' };
  };

  return {
    claim(request) {
      const answerType = plainAnswerType(request.headers.accept);
      if (request.url !== app.graphqlEndpoint || answerType === null || !isJsonContent(request.headers['content-type'])) return null;
      return {
        maxBodyBytes,
        answer: (body) =>
          answer(request, body, answerType).catch((error: unknown) => {
            // As Yoga answers an error thrown outside resolvers (masked; resolvers' own errors are in the result).
            log.error('GraphQL request failed', { error: (error as Error).message });
            return {
              status: 500,
              headers: { 'content-type': `${answerType}; charset=utf-8` },
              body: JSON.stringify({ errors: [{ message: 'Unexpected error.' }] }),
            };
          }),
      };
    },
  };
}
