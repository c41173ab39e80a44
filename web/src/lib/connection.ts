// The graphql-ws connection's policy: where, how long to wait between tries, when to give up.

/** The close code the server uses for a refused connection_init (a missing or wrong token). */
export const FORBIDDEN_CLOSE_CODE = 4403;

export function isCloseEvent(value: unknown): value is { code: number; reason?: string } {
  return typeof value === 'object' && value !== null && 'code' in value && typeof (value as { code: unknown }).code === 'number';
}

/** Retry forever, except when the server refused the token: then sign-in is needed, not a retry. */
export function shouldRetry(errorOrCloseEvent: unknown): boolean {
  return !(isCloseEvent(errorOrCloseEvent) && errorOrCloseEvent.code === FORBIDDEN_CLOSE_CODE);
}

/** Waits 0.5 s, 1 s, 2 s, … up to 10 s, plus up to 0.5 s of jitter, between reconnection attempts. */
export function retryDelay(retries: number, random: () => number = Math.random): number {
  return Math.min(10_000, 500 * 2 ** Math.max(0, retries)) + Math.floor(random() * 500);
}

export function websocketUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;
}
