import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { generateSecret, secretProblem, sign, signatureHeaders } from '../../core/signing.ts';

// The test vector from the Standard Webhooks specification.
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
} as const;

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** `whsec_` + base64 of `bytes` bytes. */
const secretOf = (bytes: number) => `whsec_${Buffer.alloc(bytes, 0xab).toString('base64')}`;

describe('sign', () => {
  it('reproduces the Standard Webhooks test vector', () => {
    expect(sign(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body)).toBe(SPEC.signature);
  });

  it('accepts the secret without its whsec_ prefix', () => {
    expect(sign(SPEC.secret.slice('whsec_'.length), SPEC.id, SPEC.timestamp, SPEC.body)).toBe(SPEC.signature);
  });

  it('changes with each signed part', () => {
    const signatures = new Set([
      sign(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body),
      sign(SPEC.secret, 'msg_other', SPEC.timestamp, SPEC.body),
      sign(SPEC.secret, SPEC.id, SPEC.timestamp + 1, SPEC.body),
      sign(SPEC.secret, SPEC.id, SPEC.timestamp, '{"test": 2432232315}'),
      sign(generateSecret(), SPEC.id, SPEC.timestamp, SPEC.body),
    ]);
    expect(signatures.size).toBe(5);
  });

  it('is deterministic', () => {
    expect(sign(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body)).toBe(sign(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body));
  });

  it('has the form v1,<base64 of 32 bytes>', () => {
    const signature = sign(generateSecret(), 'msg_1', nowSeconds(), '{}');
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(signature.slice(3), 'base64')).toHaveLength(32);
  });
});

describe('signatureHeaders', () => {
  it('reproduces the Standard Webhooks test vector', () => {
    expect(signatureHeaders(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body)).toEqual({
      'webhook-id': SPEC.id,
      'webhook-timestamp': '1614265330',
      'webhook-signature': SPEC.signature,
    });
  });

  it('has exactly the three Standard Webhooks headers, all strings', () => {
    const headers = signatureHeaders(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body);
    expect(Object.keys(headers).sort()).toEqual(['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    for (const value of Object.values(headers)) expect(typeof value).toBe('string');
  });

  describe('checked by the standardwebhooks package', () => {
    const body = JSON.stringify({ type: 'order.created', data: { id: 42, note: 'héllo ✓' } });

    it('verifies with the spec secret', () => {
      const headers = signatureHeaders(SPEC.secret, SPEC.id, nowSeconds(), body);
      expect(new Webhook(SPEC.secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    });

    it('verifies with a generated secret', () => {
      const secret = generateSecret();
      const headers = signatureHeaders(secret, 'msg_generated', nowSeconds(), body);
      expect(() => new Webhook(secret).verify(body, { ...headers })).not.toThrow();
    });

    it('agrees with the package’s own signature', () => {
      const timestamp = nowSeconds();
      const theirs = new Webhook(SPEC.secret).sign(SPEC.id, new Date(timestamp * 1000), body);
      expect(signatureHeaders(SPEC.secret, SPEC.id, timestamp, body)['webhook-signature']).toBe(theirs);
    });

    it('fails for a tampered body', () => {
      const headers = signatureHeaders(SPEC.secret, SPEC.id, nowSeconds(), body);
      expect(() => new Webhook(SPEC.secret).verify(body.replace('42', '43'), { ...headers })).toThrow();
    });

    it('fails for a different secret', () => {
      const headers = signatureHeaders(SPEC.secret, SPEC.id, nowSeconds(), body);
      expect(() => new Webhook(generateSecret()).verify(body, { ...headers })).toThrow();
    });

    it('fails for a different message id', () => {
      const headers = signatureHeaders(SPEC.secret, SPEC.id, nowSeconds(), body);
      expect(() => new Webhook(SPEC.secret).verify(body, { ...headers, 'webhook-id': 'msg_other' })).toThrow();
    });

    it('fails for a timestamp other than the one signed', () => {
      const signed = nowSeconds();
      const headers = signatureHeaders(SPEC.secret, SPEC.id, signed, body);
      expect(() =>
        new Webhook(SPEC.secret).verify(body, { ...headers, 'webhook-timestamp': String(signed - 1) }),
      ).toThrow();
    });
  });
});

describe('generateSecret', () => {
  it('is whsec_ followed by base64 of 32 bytes', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
  });

  it('is different every call', () => {
    const secrets = new Set(Array.from({ length: 50 }, () => generateSecret()));
    expect(secrets.size).toBe(50);
  });

  it('is accepted by secretProblem', () => {
    for (let i = 0; i < 20; i++) expect(secretProblem(generateSecret())).toBeNull();
  });
});

describe('secretProblem', () => {
  it('accepts the spec secret (24 bytes)', () => {
    expect(secretProblem(SPEC.secret)).toBeNull();
  });

  it.each([24, 32, 48, 64])('accepts a key of %d bytes', (bytes) => {
    expect(secretProblem(secretOf(bytes))).toBeNull();
  });

  it('accepts one and two padding characters', () => {
    expect(secretProblem(secretOf(25))).toBeNull(); // ends in ==
    expect(secretProblem(secretOf(26))).toBeNull(); // ends in =
    expect(secretOf(25)).toMatch(/[^=]==$/);
    expect(secretOf(26)).toMatch(/[^=]=$/);
  });

  it.each([
    ['no prefix', SPEC.secret.slice('whsec_'.length)],
    ['another prefix', `sk_${SPEC.secret.slice('whsec_'.length)}`],
    ['upper-case prefix', SPEC.secret.replace('whsec_', 'WHSEC_')],
    ['empty', ''],
  ])('rejects a secret with %s', (_, secret) => {
    expect(secretProblem(secret)).toMatch(/must start with "whsec_"/);
  });

  it.each([
    ['nothing after the prefix', 'whsec_'],
    ['a character outside base64', `whsec_${'A'.repeat(31)}!`],
    ['URL-safe base64', `whsec_${'A'.repeat(30)}-_`],
    ['whitespace', `whsec_${'A'.repeat(16)} ${'A'.repeat(15)}`],
    ['a length that is not a multiple of 4', `whsec_${'A'.repeat(33)}`],
    ['missing padding', secretOf(25).slice(0, -2)],
    ['padding in the middle', `whsec_AAAA=AAA${'A'.repeat(28)}`],
    ['three padding characters', `whsec_${'A'.repeat(29)}===`],
  ])('rejects a key with %s', (_, secret) => {
    expect(secretProblem(secret)).toMatch(/followed by base64/);
  });

  it.each([1, 16, 23])('rejects a key of %d bytes as too short', (bytes) => {
    expect(secretProblem(secretOf(bytes))).toBe(`must encode between 24 and 64 bytes (this one has ${bytes})`);
  });

  it.each([65, 96, 128])('rejects a key of %d bytes as too long', (bytes) => {
    expect(secretProblem(secretOf(bytes))).toBe(`must encode between 24 and 64 bytes (this one has ${bytes})`);
  });
});
