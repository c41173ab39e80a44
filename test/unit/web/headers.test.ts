import { describe, expect, it } from 'vitest';
import { headersToText, isSignatureHeader, sortHeaders } from '../../../web/src/lib/headers.ts';

const sent = [
  { name: 'content-type', value: 'application/json' },
  { name: 'webhook-signature', value: 'v1,abc=' },
  { name: 'user-agent', value: 'hookd/0.1.0' },
  { name: 'webhook-id', value: 'e1' },
  { name: 'webhook-timestamp', value: '1700000000' },
];

describe('headers', () => {
  it('puts the webhook-* headers first, each group by name', () => {
    expect(sortHeaders(sent).map((header) => header.name)).toEqual([
      'webhook-id',
      'webhook-signature',
      'webhook-timestamp',
      'content-type',
      'user-agent',
    ]);
  });

  it('does not reorder its input', () => {
    const copy = [...sent];
    sortHeaders(sent);
    expect(sent).toEqual(copy);
  });

  it('prints them as on the wire', () => {
    expect(headersToText(sent.slice(0, 2))).toBe('webhook-signature: v1,abc=\ncontent-type: application/json');
    expect(headersToText([])).toBe('');
  });

  it('knows the signature headers, in any case', () => {
    expect(isSignatureHeader('Webhook-Signature')).toBe(true);
    expect(isSignatureHeader('content-type')).toBe(false);
  });
});
