// GraphQL subscription clients for tests: graphql-ws over WebSocket, and SSE over fetch.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { stack } from './api.ts';

export interface LiveStream {
  /** Each `data` payload received, in order. */
  readonly items: any[];
  readonly errors: unknown[];
  close(): Promise<void>;
}

/** A graphql-ws subscription to the shared server, or to another one (`at`). */
export function subscribeWs(
  query: string,
  variables: Record<string, unknown> = {},
  at: { url: string; token: string } = { url: stack().url, token: stack().token },
): LiveStream {
  const client = createClient({
    url: `${at.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${at.token}` },
    retryAttempts: 0,
  });
  const items: any[] = [];
  const errors: unknown[] = [];
  const unsubscribe = client.subscribe({ query, variables }, { next: (value) => items.push(value.data), error: (error) => errors.push(error), complete: () => {} });
  return {
    items,
    errors,
    async close() {
      unsubscribe();
      await client.dispose();
    },
  };
}

export function subscribeSse(query: string, variables: Record<string, unknown> = {}): LiveStream {
  const items: any[] = [];
  const errors: unknown[] = [];
  const controller = new AbortController();
  const done = (async () => {
    const response = await fetch(`${stack().url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${stack().token}` },
      body: JSON.stringify({ query, variables }),
      signal: controller.signal,
    });
    if (!response.ok || !response.body) throw new Error(`SSE answered ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = message
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trim())
          .join('\n');
        if (data) {
          const payload = JSON.parse(data);
          if (payload.errors) errors.push(payload.errors);
          if (payload.data) items.push(payload.data);
        }
      }
    }
  })().catch((error) => {
    if ((error as Error).name !== 'AbortError') errors.push(error);
  });
  return {
    items,
    errors,
    async close() {
      controller.abort();
      await done;
    },
  };
}
