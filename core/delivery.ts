// Delivery: one HTTP attempt (sendWebhook, which returns an outcome and records nothing)
// and the work around it (deliverEvent: claim the event, send, record, announce, schedule).
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import { EVENT_COLUMNS, Prisma, columnList, type Event } from './db.ts';
import type { DeliveryStore } from './delivery-store.ts';
import { announceDisabled } from './subscription-events.ts';
import { enqueueDeliveries } from './enqueue.ts';
import type { Delivery } from './queue.ts';
import { nextRetryDelay, parseRetryAfter } from './schedule.ts';
import { VERSION, type Services } from './services.ts';
import { signatureHeaders } from './signing.ts';
import { createTargetLookup, literalTargetRefusal, type TargetConfig } from './targets.ts';

/** Bytes of a response body kept in the attempt log. */
export const RESPONSE_BODY_KEPT = 4 * 1024;
/** Bytes of a response body read at most; the rest is never downloaded. */
export const RESPONSE_BODY_READ = 64 * 1024;

export interface WebhookMessage {
  eventId: string;
  payload: unknown;
  targetUrl: string;
  /** The current secret, then the previous one while a rotation's grace period lasts. */
  secrets: string[];
}

export interface AttemptOutcome {
  /** The request headers exactly as sent. */
  requestHeaders: Record<string, string>;
  success: boolean;
  durationMs: number;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
  /** A Retry-After the receiver sent with 429 or 503, in ms. */
  retryAfterMs?: number;
}

export interface SendOptions {
  timeoutMs: number;
  dispatcher: Agent;
  now?: () => number;
}

/**
 * Keep-alive connections per target origin, shared by every attempt of a worker. Each new
 * connection checks the address it resolved (so DNS cannot point a target inside afterwards).
 */
export function createDispatcher(timeoutMs: number, connectionsPerOrigin: number, targets: TargetConfig): Agent {
  return new Agent({
    connections: connectionsPerOrigin,
    keepAliveTimeout: 10_000,
    connect: { timeout: timeoutMs, lookup: createTargetLookup(targets) },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const err = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err.code ?? err.cause?.code;
  if (
    err.name === 'TimeoutError' ||
    err.name === 'AbortError' ||
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    error instanceof undiciErrors.ConnectTimeoutError
  ) {
    return `timeout after ${timeoutMs} ms`;
  }
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'could not resolve host';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      return err.message || String(error);
  }
}

/** The attempt's deadline passed (describeFailure reads the name as a timeout). */
class DeadlineError extends Error {
  override name = 'TimeoutError';
}

const UTF8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Reads one attempt's response as undici hands it over: the status, a Retry-After, and the
 * first RESPONSE_BODY_KEPT bytes of the body, reading no more than RESPONSE_BODY_READ. A
 * handler on the dispatcher, not `request()`: that one builds a body stream, an abort signal's
 * listeners and an async iterator per request, which cost the worker about as much CPU again
 * as the POST itself (measured: 120 against 60 µs per request on this machine).
 */
class AttemptHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private status = 0;
  private retryAfter: string | undefined;
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private readBytes = 0;
  private settled = false;
  /** Set once the deadline has passed. */
  private expired: DeadlineError | null = null;

  constructor(
    private readonly finish: (response: { status: number; body: Buffer; retryAfter: string | undefined } | { error: unknown }) => void,
  ) {}

  /** The deadline passed: settle now, and stop the request wherever it is (queued, sending, reading). */
  expire(): void {
    this.expired = new DeadlineError('the attempt timed out');
    this.fail(this.expired);
    this.controller?.abort(this.expired);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Its turn came after the deadline (it waited for a connection): send nothing.
    if (this.expired) controller.abort(this.expired);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.status = statusCode;
    this.retryAfter = headerValue(headers['retry-after']);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.readBytes += chunk.length;
    if (this.keptBytes < RESPONSE_BODY_KEPT) {
      const part = chunk.subarray(0, RESPONSE_BODY_KEPT - this.keptBytes);
      this.kept.push(part);
      this.keptBytes += part.length;
    }
    if (this.readBytes >= RESPONSE_BODY_READ) {
      // Enough read: answer with what is kept and close the connection on the rest.
      this.succeed();
      controller.abort(new Error('response body not read past RESPONSE_BODY_READ'));
    }
  }

  onResponseEnd(): void {
    this.succeed();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }

  private succeed(): void {
    if (this.settled) return;
    this.settled = true;
    this.finish({ status: this.status, body: Buffer.concat(this.kept), retryAfter: this.retryAfter });
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.finish({ error });
  }
}

/** Makes one signed POST. Never throws: every failure is an outcome. */
export function sendWebhook(message: WebhookMessage, options: SendOptions): Promise<AttemptOutcome> {
  const now = options.now ?? Date.now;
  const started = now();
  const body = JSON.stringify(message.payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': `hookd/${VERSION}`,
    ...signatureHeaders(message.secrets, message.eventId, Math.floor(started / 1000), body),
  };
  return new Promise((resolve) => {
    const handler = new AttemptHandler((response) => {
      clearTimeout(timer);
      const durationMs = now() - started;
      if ('error' in response) {
        resolve({
          requestHeaders: headers,
          success: false,
          durationMs,
          responseStatus: null,
          responseBody: null,
          error: textForPostgres(describeFailure(response.error, options.timeoutMs)),
        });
        return;
      }
      const { status } = response;
      const success = status >= 200 && status < 300;
      const retryAfter = status === 429 || status === 503 ? parseRetryAfter(response.retryAfter, now()) : undefined;
      resolve({
        requestHeaders: headers,
        success,
        durationMs,
        responseStatus: status,
        responseBody: textForPostgres(UTF8.decode(response.body)),
        error: success ? null : status >= 300 && status < 400 ? `redirect (${status}) not followed` : `HTTP ${status}`,
        ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
      });
    });
    const timer = setTimeout(() => handler.expire(), options.timeoutMs);
    try {
      const target = new URL(message.targetUrl);
      options.dispatcher.dispatch({ origin: target.origin, path: `${target.pathname}${target.search}`, method: 'POST', body, headers }, handler);
    } catch (error) {
      handler.fail(error);
    }
  });
}

function refusedOutcome(error: string): AttemptOutcome {
  return { requestHeaders: {}, success: false, durationMs: 0, responseStatus: null, responseBody: null, error };
}

/** PostgreSQL text cannot hold NUL: a receiver's zero bytes would make the attempt unrecordable. */
function textForPostgres(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD');
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A delivery that claimed nothing: if its subscription was disabled, the event has failed. */
async function settleUnclaimed(services: Services, delivery: Delivery): Promise<void> {
  const failed = await services.db.$queryRaw<Event[]>`
    UPDATE "Event" e SET status = 'FAILED', "nextAttemptAt" = NULL, "updatedAt" = now()
    FROM "WebhookSubscription" s
    WHERE e.id = ${delivery.eventId}::uuid AND s.id = e."subscriptionId" AND s.status = 'DISABLED'
      AND e.status IN ('PENDING', 'RETRYING')
    RETURNING ${Prisma.raw(columnList(EVENT_COLUMNS, 'e'))}`;
  for (const event of failed) await services.publisher.publish('event-updated', event);
}

export interface DeliveryDeps {
  services: Services;
  dispatcher: Agent;
  /** Claims and records, group-committed across the jobs running at once. */
  store: DeliveryStore;
}

/** One attempt of one event: claimed, sent, recorded, announced and, on failure, rescheduled. */
export async function deliverEvent({ services, dispatcher, store }: DeliveryDeps, delivery: Delivery): Promise<void> {
  const { config } = services;
  const claimed = await store.claim(delivery);
  if (!claimed) {
    await settleUnclaimed(services, delivery);
    return;
  }
  const { targetUrl, secret, previousSecret, ...event } = claimed;
  // Announced while the POST goes out, not before it: the receiver does not wait a Redis round
  // trip. Commands on one connection keep their order, so watchers still see DELIVERING first.
  const announced = services.publisher.publish('event-updated', event);

  const attemptedAt = new Date();
  // An IP-literal host never goes through the connect-time lookup: check it here.
  const refusal = literalTargetRefusal(targetUrl, config);
  const outcome = refusal ? refusedOutcome(refusal) : await sendWebhook(
    { eventId: event.id, payload: event.payload, targetUrl, secrets: previousSecret ? [secret, previousSecret] : [secret] },
    { timeoutMs: config.deliveryTimeoutMs, dispatcher },
  );

  const attemptsInSeries = delivery.attempt - event.seriesOffset;
  // 410 Gone: the receiver says the endpoint is no more. Stop: fail the event, disable the subscription.
  const gone = outcome.responseStatus === 410;
  const delay = outcome.success || gone
    ? null
    : nextRetryDelay({
        attemptsInSeries,
        maxAttempts: config.maxAttempts,
        schedule: config.retrySchedule,
        retryAfterMs: outcome.retryAfterMs,
      });
  const finishedAt = new Date();
  const nextAttemptAt = delay === null ? null : new Date(finishedAt.getTime() + delay);

  const recorded = await store.record({
    event,
    attemptNumber: delivery.attempt,
    attemptedAt,
    finishedAt,
    durationMs: outcome.durationMs,
    success: outcome.success,
    gone,
    responseStatus: outcome.responseStatus,
    responseBody: outcome.responseBody,
    error: outcome.error,
    nextAttemptAt,
    requestHeaders: outcome.requestHeaders,
  });
  if (gone) await announceDisabled(services, event.subscriptionId, 'the receiver answered 410 Gone');
  services.metrics.deliveries.inc({ outcome: outcome.success ? 'success' : 'failure' });
  services.metrics.attemptDuration.observe(outcome.durationMs / 1000);
  if (delivery.attempt === 1) services.metrics.deliveryLag.observe((attemptedAt.getTime() - new Date(event.createdAt).getTime()) / 1000);
  if (!outcome.success) {
    services.log.info('delivery attempt failed', {
      eventId: event.id,
      subscriptionId: event.subscriptionId,
      attempt: delivery.attempt,
      error: outcome.error,
      nextAttemptAt,
    });
  }
  await Promise.all([
    announced,
    services.publisher.publish('attempt-recorded', recorded.attempt),
    services.publisher.publish('event-updated', recorded.event),
  ]);
  if (nextAttemptAt) {
    await enqueueDeliveries(services, [{ eventId: event.id, attempt: delivery.attempt + 1, notBefore: nextAttemptAt }]);
  }
}
