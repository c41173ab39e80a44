// What a test receiver records of each webhook request, shared by the in-process receiver
// (receiver.ts) and the one in a process of its own (receiver-process.ts). No vitest here: the
// receiver process imports it outside the test runner.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

/** Reads a request's body, then hands over the record of it (stamped when the body ended). */
export function readRequest(request: IncomingMessage, onRead: (received: ReceivedRequest) => void): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () =>
    onRead({
      method: request.method ?? '',
      path: request.url ?? '',
      headers: request.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      receivedAt: Date.now(),
    }),
  );
}

/** The requests for one event (its `webhook-id`), in arrival order. */
export function requestsFor(requests: ReceivedRequest[], eventId: string): ReceivedRequest[] {
  return requests.filter((request) => request.headers['webhook-id'] === eventId);
}
