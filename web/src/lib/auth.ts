// The API token: kept in localStorage, sent as `Authorization: Bearer …` on HTTP and in the
// graphql-ws connection_init payload.

const STORAGE_KEY = 'hookd.apiToken';

export function readToken(): string | null {
  try {
    const token = globalThis.localStorage?.getItem(STORAGE_KEY);
    return token ? token : null;
  } catch {
    return null;
  }
}

export function writeToken(token: string): void {
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, token);
  } catch {
    // Storage refused (private mode, quota): the token lives for this page only.
  }
}

export function clearToken(): void {
  try {
    globalThis.localStorage?.removeItem(STORAGE_KEY);
  } catch {
    // Nothing stored, nothing to clear.
  }
}

export function authorizationHeader(token: string | null): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The graphql-ws connection_init payload. */
export function connectionParams(token: string | null): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The API's answer when a token is needed: HTTP 401 with `errors[0].extensions.code` UNAUTHENTICATED. */
export function isUnauthenticatedResponse(status: number, body: unknown): boolean {
  if (status !== 401) return false;
  const errors = (body as { errors?: unknown } | null)?.errors;
  const first = Array.isArray(errors) ? (errors[0] as { extensions?: { code?: unknown } } | undefined) : undefined;
  return first?.extensions?.code === 'UNAUTHENTICATED';
}

export type ProbeResult = { kind: 'ok' } | { kind: 'unauthenticated' } | { kind: 'unreachable'; message: string };

const PROBE_QUERY = 'query Probe { __typename }';
const FORBIDDEN_CLOSE_CODE = 4403;

/**
 * Asks the API a trivial query over HTTP. A 401 with UNAUTHENTICATED means a token is needed
 * (or the one given is wrong).
 */
export async function probeHttp(token: string | null, fetchImpl: typeof fetch = fetch): Promise<ProbeResult> {
  let response: Response;
  try {
    response = await fetchImpl('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...authorizationHeader(token) },
      body: JSON.stringify({ query: PROBE_QUERY }),
    });
  } catch (error) {
    return { kind: 'unreachable', message: error instanceof Error ? error.message : String(error) };
  }
  const body: unknown = await response.json().catch(() => null);
  if (isUnauthenticatedResponse(response.status, body)) return { kind: 'unauthenticated' };
  if (!response.ok) return { kind: 'unreachable', message: `the API answered HTTP ${response.status}` };
  return { kind: 'ok' };
}

type SocketLike = Pick<WebSocket, 'send' | 'close'> & {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onerror: ((event: unknown) => void) | null;
};

/**
 * The same query over the graphql-ws protocol: the server refuses a connection_init without a
 * valid token by closing with 4403. Unlike an HTTP 401, which the browser reports in the
 * console as a failed resource, a close code is silent, so a page that simply needs a token
 * shows no error.
 */
export function probeSocket(
  token: string | null,
  url: string,
  openSocket: (url: string, protocol: string) => SocketLike = (socketUrl, protocol) => new WebSocket(socketUrl, protocol) as unknown as SocketLike,
  timeoutMs = 5000,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    let socket: SocketLike;
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (socket) {
        socket.onclose = null;
        socket.onmessage = null;
        socket.onerror = null;
        try {
          socket.close(1000, 'probe done');
        } catch {
          // Already closed.
        }
      }
      resolve(result);
    };
    const timer = setTimeout(() => finish({ kind: 'unreachable', message: 'no answer over WebSocket' }), timeoutMs);
    try {
      socket = openSocket(url, 'graphql-transport-ws');
    } catch (error) {
      finish({ kind: 'unreachable', message: error instanceof Error ? error.message : String(error) });
      return;
    }
    socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: connectionParams(token) }));
    socket.onmessage = (event) => {
      let message: { type?: string; id?: string };
      try {
        message = JSON.parse(String(event.data)) as { type?: string };
      } catch {
        return;
      }
      if (message.type === 'connection_ack') socket.send(JSON.stringify({ id: 'probe', type: 'subscribe', payload: { query: PROBE_QUERY } }));
      else if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
      else if (message.id === 'probe' && (message.type === 'next' || message.type === 'complete' || message.type === 'error')) finish({ kind: 'ok' });
    };
    socket.onclose = (event) =>
      finish(event.code === FORBIDDEN_CLOSE_CODE ? { kind: 'unauthenticated' } : { kind: 'unreachable', message: `WebSocket closed (${event.code})` });
    socket.onerror = () => {
      // onclose follows with the code.
    };
  });
}

/** Whether the API answers, and whether it wants (another) token: over WebSocket, or HTTP when that fails. */
export async function probeApi(token: string | null, socketUrl: string): Promise<ProbeResult> {
  const overSocket = await probeSocket(token, socketUrl);
  return overSocket.kind === 'unreachable' ? probeHttp(token) : overSocket;
}
