// Helpers of the subscription and test-event forms.

export interface FieldErrorLike {
  path: readonly string[];
  message: string;
}

/** "order.*, invoice.paid ,, " → ["order.*", "invoice.paid"] */
export function parseEventTypes(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

export function formatEventTypes(eventTypes: readonly string[]): string {
  return eventTypes.join(', ');
}

/**
 * ValidationError field errors keyed by their first path segment (the input field), each
 * message naming the list entry it is about (`eventTypes.1` → `"bad type": …`).
 */
export function fieldErrorsByField(
  fieldErrors: readonly FieldErrorLike[],
  listValues: Record<string, readonly string[]> = {},
): Record<string, string[]> {
  const byField: Record<string, string[]> = {};
  for (const { path, message } of fieldErrors) {
    const field = path[0] ?? '';
    const index = path[1] !== undefined ? Number(path[1]) : NaN;
    const entry = Number.isInteger(index) ? listValues[field]?.[index] : undefined;
    const text = entry !== undefined ? `"${entry}": ${message}` : Number.isInteger(index) ? `entry ${index + 1}: ${message}` : message;
    (byField[field] ??= []).push(text);
  }
  return byField;
}

/** Errors whose field is not one of `shown`, to be listed above the form so none is lost. */
export function otherFieldErrors(byField: Record<string, string[]>, shown: readonly string[]): string[] {
  return Object.entries(byField)
    .filter(([field]) => !shown.includes(field))
    .flatMap(([field, messages]) => messages.map((message) => (field ? `${field}: ${message}` : message)));
}

/** A URL that the server will at least be able to parse, checked before sending. */
export function targetUrlProblem(text: string): string | null {
  const trimmed = text.trim();
  if (trimmed === '') return 'is required';
  try {
    const url = new URL(trimmed);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http:// or https:// URL';
  } catch {
    return 'must be an absolute URL, e.g. https://example.com/hooks';
  }
  return null;
}
