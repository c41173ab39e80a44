import { describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_DEPTH, payloadProblem, textProblem } from '../../core/payload.ts';

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = level % 2 ? [value] : { a: value };
  return value;
};

describe('payloadProblem', () => {
  it.each([{ a: 1 }, [1, 'two', null, true, { ok: 'ünïcode ✓ 😀' }], 'text', 42, nested(MAX_PAYLOAD_DEPTH)])('accepts %j', (payload) => {
    expect(payloadProblem(payload)).toBeNull();
  });

  it('refuses nesting deeper than the limit, even far deeper, without overflowing the stack', () => {
    expect(payloadProblem(nested(MAX_PAYLOAD_DEPTH + 1))).toMatch(/nested deeper/);
    expect(payloadProblem(nested(200_000))).toMatch(/nested deeper/);
  });

  it.each([
    [{ a: 'x\u0000y' }, /string at \.a/],
    [{ 'k\u0000': 1 }, /key/],
    [['lone \ud800 surrogate'], /string at \[0\]/],
    [{ a: { b: '\udc00' } }, /string at \.a\.b/],
  ])('refuses what jsonb cannot hold: %j', (payload, message) => {
    expect(payloadProblem(payload)).toMatch(message);
  });

  it('says where the problem is, in the notation of a path into the payload', () => {
    expect(payloadProblem({ list: [1, { 'bad\u0000': 2 }] })).toBe('has a key in .list[1] with a NUL character or an unpaired UTF-16 surrogate');
    expect(payloadProblem({ a: [0, Number.NaN] })).toBe('has a number at .a[1] that JSON cannot hold');
    expect(payloadProblem('x\u0000')).toBe('has a string with a NUL character or an unpaired UTF-16 surrogate');
    expect(payloadProblem({ 'k\u0000': 1 })).toBe('has a key with a NUL character or an unpaired UTF-16 surrogate');
  });

  it('accepts paired surrogates (emoji) and refuses unpaired ones', () => {
    expect(textProblem('😀')).toBeNull();
    expect(textProblem('\ud83d')).not.toBeNull();
    expect(textProblem('\ude00x')).not.toBeNull();
    expect(textProblem('ok')).toBeNull();
  });
});
