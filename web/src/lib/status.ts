// Event and subscription statuses: their order, words and colours.

export const EVENT_STATUSES = ['PENDING', 'DELIVERING', 'RETRYING', 'DELIVERED', 'FAILED', 'FILTERED'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export const SUBSCRIPTION_STATUSES = ['ACTIVE', 'PAUSED', 'DISABLED'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export type Tone = 'neutral' | 'info' | 'warning' | 'success' | 'danger' | 'muted';

const EVENT_TONES: Record<EventStatus, Tone> = {
  PENDING: 'neutral',
  DELIVERING: 'info',
  RETRYING: 'warning',
  DELIVERED: 'success',
  FAILED: 'danger',
  FILTERED: 'muted',
};

const EVENT_MEANINGS: Record<EventStatus, string> = {
  PENDING: 'Accepted, waiting to be sent',
  DELIVERING: 'Being sent now',
  RETRYING: 'The last attempt failed; another is scheduled',
  DELIVERED: 'The receiver answered 2xx',
  FAILED: 'Every attempt failed, or the subscription is disabled',
  FILTERED: "The subscription's event types do not match; never sent",
};

export function isEventStatus(value: unknown): value is EventStatus {
  return typeof value === 'string' && (EVENT_STATUSES as readonly string[]).includes(value);
}

export function eventStatusTone(status: string): Tone {
  return isEventStatus(status) ? EVENT_TONES[status] : 'neutral';
}

export function eventStatusMeaning(status: string): string {
  return isEventStatus(status) ? EVENT_MEANINGS[status] : status;
}

export function subscriptionStatusTone(status: string): Tone {
  if (status === 'ACTIVE') return 'success';
  if (status === 'PAUSED') return 'warning';
  if (status === 'DISABLED') return 'danger';
  return 'neutral';
}

/** Only these can be sent again with redeliverEvent. */
export function canRedeliver(status: string): boolean {
  return status === 'DELIVERED' || status === 'FAILED';
}

/** The HTTP outcome of one attempt, in a few characters: `200`, `503`, `timeout`, `error`. */
export function attemptOutcome(attempt: { success: boolean; responseStatus: number | null; error: string | null }): string {
  if (attempt.responseStatus != null) return String(attempt.responseStatus);
  if (attempt.error && /timed? ?out|timeout/i.test(attempt.error)) return 'timeout';
  return attempt.success ? 'ok' : 'error';
}

/** The error worth showing beside the outcome: none when it only repeats the status code. */
export function attemptErrorText(attempt: { responseStatus: number | null; error: string | null }): string | null {
  if (!attempt.error) return null;
  if (attempt.responseStatus != null && attempt.error.trim() === `HTTP ${attempt.responseStatus}`) return null;
  return attempt.error;
}
