// A real HTTP receiver on loopback whose answers a test can script.
import { afterAll, beforeAll } from 'vitest';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readRequest, requestsFor, type ReceivedRequest } from './received.ts';
import { waitFor } from './wait.ts';

export type { ReceivedRequest } from './received.ts';

/** How to answer one request: a status (and body/headers), or a custom handler. */
export type Answer =
  | { status: number; body?: string; headers?: Record<string, string>; delayMs?: number }
  | ((response: ServerResponse, request: ReceivedRequest) => void);

export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly server: Server;
  private readonly scripted = new Map<string, Answer[]>();
  /** The answer once the script has run out. */
  fallback: Answer = { status: 200, body: 'ok' };

  private constructor() {
    this.server = createServer((request, response) => {
      readRequest(request, (received) => {
        this.requests.push(received);
        const answer = this.scripted.get(received.path)?.shift() ?? this.fallback;
        if (typeof answer === 'function') return answer(response, received);
        const send = () => {
          if (response.destroyed) return;
          response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
          response.end(answer.body ?? '');
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
  }

  static async start(): Promise<TestReceiver> {
    const receiver = new TestReceiver();
    await receiver.listen();
    return receiver;
  }

  private async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  /** A receiver for the whole test file: listening before its tests, closed after them. */
  static forFile(): TestReceiver {
    const receiver = new TestReceiver();
    beforeAll(() => receiver.listen());
    afterAll(() => receiver.close());
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Answers the next requests to `path` in this order, then falls back. */
  script(path: string, ...answers: Answer[]): this {
    this.scripted.set(path, [...(this.scripted.get(path) ?? []), ...answers]);
    return this;
  }

  /** Requests for one event (its `webhook-id`), in arrival order. */
  requestsFor(eventId: string): ReceivedRequest[] {
    return requestsFor(this.requests, eventId);
  }

  async waitForRequests(eventId: string, count: number, timeoutMs = 10_000): Promise<ReceivedRequest[]> {
    return waitFor(() => this.requestsFor(eventId).length >= count && this.requestsFor(eventId), {
      timeoutMs,
      what: `${count} requests for event ${eventId}`,
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

