// Bearer tokens: with API_TOKENS set, every API request needs one of them.
import { createHash, timingSafeEqual } from 'node:crypto';

export type TokenCheck = (authorization: string | null | undefined) => boolean;

/** Compares in constant time (over SHA-256 digests, so lengths leak nothing either). */
export function createTokenCheck(tokens: readonly string[]): TokenCheck {
  const digests = tokens.map((token) => createHash('sha256').update(token).digest());
  if (digests.length === 0) return () => true;
  return (authorization) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const given = createHash('sha256').update(match?.[1] ?? '').digest();
    let ok = false;
    for (const digest of digests) ok = timingSafeEqual(digest, given) || ok;
    return ok;
  };
}

/** The token of a graphql-ws connection_init payload: `{ "authorization": "Bearer …" }`, any key case. */
export function authorizationFromConnectionParams(params: Record<string, unknown> | undefined | null): string | null {
  if (!params) return null;
  for (const [key, value] of Object.entries(params)) {
    if (key.toLowerCase() === 'authorization' && typeof value === 'string') return value;
  }
  return null;
}

export function unauthenticatedResponse(): Response {
  return new Response(
    JSON.stringify({ errors: [{ message: 'A valid bearer token is required (Authorization: Bearer <token>)', extensions: { code: 'UNAUTHENTICATED' } }] }),
    { status: 401, headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' } },
  );
}
