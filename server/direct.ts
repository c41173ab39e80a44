// The server's request listener: the hottest requests (a producer's plain JSON POST to /graphql,
// REST's ingest) are answered here, beside Yoga's HTTP layer; everything else goes to Yoga.
// That layer builds a Fetch Request and Response for every call and runs its plugin chain
// around them: about a quarter of the server's CPU per `ingestEvent`. A route here answers
// only what it is sure to answer as Yoga would; anything it is not sure of, it leaves to Yoga,
// body included, so every error answer but its own is Yoga's.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../core/log.ts';
import type { App } from './app.ts';
import type { TokenCheck } from './auth.ts';

/** An answer written as it is. */
export interface DirectAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A route's claim on a request, made from its request line and headers alone. */
export interface DirectClaim {
  /** Largest body the route reads; a request declaring more goes to Yoga unread. */
  maxBodyBytes: number;
  /** The answer, from the body read; null leaves the request (and its body) to Yoga. */
  answer(body: Buffer): Promise<DirectAnswer | null>;
}

export interface DirectRoute {
  /** Null: not this route's request. */
  claim(request: IncomingMessage): DirectClaim | null;
}

export interface DirectOptions {
  routes: DirectRoute[];
  checkToken: TokenCheck;
  log: Logger;
}

/** Node's listener: `routes` first, for POSTs with a body of a declared length, a valid token and no Origin (CORS is Yoga's). */
export function withDirectRoutes(app: App, { routes, checkToken, log }: DirectOptions): RequestListener {
  const toYoga = (request: IncomingMessage, response: ServerResponse, body?: Buffer) => {
    // A body already read is handed over as it is (whatwg-node takes `request.body` when set).
    if (body) (request as IncomingMessage & { body?: Buffer }).body = body;
    void app(request, response);
  };

  const claimOf = (request: IncomingMessage): DirectClaim | null => {
    const { headers } = request;
    if (request.method !== 'POST' || headers.origin !== undefined) return null;
    let claim: DirectClaim | null = null;
    for (const route of routes) if ((claim = route.claim(request))) break;
    if (!claim) return null;
    const length = Number(headers['content-length']);
    if (!(length > 0 && length <= claim.maxBodyBytes) || !checkToken(headers.authorization)) return null;
    return claim;
  };

  return (request, response) => {
    const claim = claimOf(request);
    if (!claim) return toYoga(request, response);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      claim.answer(body).then(
        (answer) => {
          if (!answer) return toYoga(request, response, body);
          response.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
          response.end(answer.body);
        },
        // Routes answer their own failures; this is a bug, not a request's fault.
        (error: unknown) => {
          log.error('request failed', { path: request.url, error: (error as Error).message });
          response.destroy();
        },
      );
    });
  };
}
