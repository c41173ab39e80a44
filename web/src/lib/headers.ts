// The request headers of an attempt, as shown on the event page.

export interface Header {
  name: string;
  value: string;
}

/** Names as sent, lower-cased for comparison; `webhook-*` headers first, then the rest by name. */
export function sortHeaders(headers: readonly Header[]): Header[] {
  const rank = (name: string) => (name.toLowerCase().startsWith('webhook-') ? 0 : 1);
  return [...headers].sort((a, b) => rank(a.name) - rank(b.name) || a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
}

/** `name: value` lines, as they would appear on the wire (for copying). */
export function headersToText(headers: readonly Header[]): string {
  return sortHeaders(headers)
    .map((header) => `${header.name}: ${header.value}`)
    .join('\n');
}

/** Whether a header is one the receiver uses to verify the Standard Webhooks signature. */
export function isSignatureHeader(name: string): boolean {
  return ['webhook-id', 'webhook-timestamp', 'webhook-signature'].includes(name.toLowerCase());
}
