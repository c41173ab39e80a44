// What PostgreSQL's jsonb (and a sane receiver) can take: pure checks of an event payload.

/** Deeper than this is refused: real payloads are shallow, and depth costs every parser. */
export const MAX_PAYLOAD_DEPTH = 64;

// A NUL, or a UTF-16 surrogate without its pair: jsonb refuses both.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `text` cannot be stored as PostgreSQL text, or null. */
export function textProblem(text: string): string | null {
  return UNSTORABLE.test(text) ? 'must not contain NUL characters or unpaired UTF-16 surrogates' : null;
}

/**
 * Why a payload cannot be stored and sent, or null. Walks without recursion, so a hostile
 * nesting cannot overflow the stack before it is refused.
 */
export function payloadProblem(payload: unknown): string | null {
  const pending: { value: unknown; depth: number; path: string }[] = [{ value: payload, depth: 0, path: '' }];
  while (pending.length > 0) {
    const { value, depth, path } = pending.pop()!;
    if (depth > MAX_PAYLOAD_DEPTH) return `is nested deeper than ${MAX_PAYLOAD_DEPTH} levels`;
    if (typeof value === 'string') {
      if (textProblem(value)) return `has a string${path ? ` at ${path}` : ''} with a NUL character or an unpaired UTF-16 surrogate`;
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return `has a number${path ? ` at ${path}` : ''} that JSON cannot hold`;
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push({ value: item, depth: depth + 1, path: `${path}[${index}]` }));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (textProblem(key)) return `has a key${path ? ` in ${path}` : ''} with a NUL character or an unpaired UTF-16 surrogate`;
        pending.push({ value: item, depth: depth + 1, path: `${path}.${key}` });
      }
    }
  }
  return null;
}
