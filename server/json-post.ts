// GraphQL over a plain JSON POST (what producers and scripts send: one query or mutation,
// answered as JSON) runs through Yoga's envelop, as graphql-ws does, without Yoga's HTTP layer.
// That layer (a Fetch Request and Response per call, the plugin chain around them) was about a
// quarter of the server's CPU per `ingestEvent`. Everything GraphQL stays the same: the cached
// parse and validation, the limits, error masking, the context; the answer is Yoga's own
// (`processRegularResult`: its status rules, its JSON without internal extensions).
//
// Anything else goes to Yoga untouched: other methods, paths and media types, CORS, streams
// (SSE, subscriptions), batches, bodies without a length or over the limit, a missing token,
// and documents that do not parse or validate, so every error answer is Yoga's.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { getOperationAST, type DocumentNode, type ExecutionResult } from 'graphql';
import { processRegularResult } from 'graphql-yoga';
import type { Logger } from '../core/log.ts';
import type { App } from './app.ts';
import type { TokenCheck } from './auth.ts';

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

export interface JsonPostOptions {
  checkToken: TokenCheck;
  maxBodyBytes: number;
  log: Logger;
}

/** A request listener: plain JSON POSTs to the GraphQL endpoint here, everything else to `app`. */
export function withJsonPosts(app: App, { checkToken, maxBodyBytes, log }: JsonPostOptions): RequestListener {
  const toYoga = (request: IncomingMessage, response: ServerResponse, body?: Buffer) => {
    // A body already read is handed over as it is (whatwg-node takes `request.body` when set).
    if (body) (request as IncomingMessage & { body?: Buffer }).body = body;
    void app(request, response);
  };

  const answer = async (request: IncomingMessage, response: ServerResponse, body: Buffer, answerType: string) => {
    let params: PlainParams | null;
    try {
      params = plainParams(JSON.parse(body.toString('utf8')));
    } catch {
      params = null;
    }
    if (!params) return toYoga(request, response, body);
    const { schema, parse, validate, contextFactory, execute } = app.getEnveloped({ req: request, res: response, params });
    let document: DocumentNode;
    try {
      document = parse(params.query);
    } catch {
      return toYoga(request, response, body);
    }
    const operation = getOperationAST(document, params.operationName);
    if (!operation || operation.operation === 'subscription' || validate(schema, document).length > 0) {
      return toYoga(request, response, body);
    }
    const result = (await execute({
      schema,
      document,
      contextValue: await contextFactory(),
      variableValues: params.variables,
      operationName: params.operationName,
    })) as ExecutionResult;
    const { body: text, init } = processRegularResult(result, plainFetchAPI, answerType) as unknown as PlainAnswer;
    response.writeHead(init.status ?? 200, { ...init.headers, 'content-length': Buffer.byteLength(text ?? '') });
    response.end(text);
  };

  return (request, response) => {
    const { headers } = request;
    const answerType = plainAnswerType(headers.accept);
    const length = Number(headers['content-length']);
    if (
      request.method !== 'POST' ||
      request.url !== app.graphqlEndpoint ||
      answerType === null ||
      !isJsonContent(headers['content-type']) ||
      headers.origin !== undefined ||
      !(length > 0 && length <= maxBodyBytes) ||
      !checkToken(headers.authorization)
    ) {
      return toYoga(request, response);
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      answer(request, response, body, answerType).catch((error: unknown) => {
        log.error('GraphQL request failed', { error: (error as Error).message });
        if (response.headersSent) return void response.destroy();
        const text = JSON.stringify({ errors: [{ message: 'Unexpected error.' }] });
        response.writeHead(500, { 'content-type': `${answerType}; charset=utf-8`, 'content-length': Buffer.byteLength(text) });
        response.end(text);
      });
    });
  };
}
