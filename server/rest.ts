// REST routes of the system hookd replaces. Each calls the same core function as the
// GraphQL mutation it mirrors.
import { NotFoundError, PayloadTooLargeError, ValidationError, isUuid } from '../core/errors.ts';
import { isDatabaseUnavailable, type Event, type WebhookSubscription } from '../core/db.ts';
import { ingestEvent } from '../core/ingest.ts';
import type { Services } from '../core/services.ts';
import { createWebhookSubscription, getWebhookSubscription } from '../core/subscriptions.ts';
import type { DirectAnswer, DirectRoute } from './direct.ts';

/** A REST answer, before it is written: as a Fetch Response (through Yoga) or directly (server/direct.ts). */
export interface RestAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const json = (status: number, body: unknown, headers?: Record<string, string>): RestAnswer => ({ status, body, headers });

function directAnswer(answer: RestAnswer): DirectAnswer {
  return { status: answer.status, headers: { 'content-type': 'application/json', ...answer.headers }, body: JSON.stringify(answer.body) };
}

export function toResponse(answer: RestAnswer): Response {
  const { status, headers, body } = directAnswer(answer);
  return new Response(body, { status, headers });
}

/**
 * What a request whose handler threw gets: the client's mistake as such (`errorAnswer`), else,
 * for no fault of its own, 503 while PostgreSQL is away and 500 (logged) otherwise.
 */
function failedAnswer(services: Services, error: unknown, method: string, url: URL): RestAnswer {
  const mistake = errorAnswer(error);
  if (mistake) return mistake;
  if (isDatabaseUnavailable(error)) return json(503, { error: 'the database is unavailable; try again shortly' }, { 'retry-after': '5' });
  services.log.error('REST request failed', { method, path: url.pathname, ...restLogFields(url), error });
  return json(500, { error: 'internal error' });
}

const REST_FIELD_NAMES: Record<string, string> = {
  targetUrl: 'target_url',
  eventTypes: 'event_types',
  eventType: 'event_type',
  idempotencyKey: 'idempotency_key',
};

/** The client's mistake, as REST answers it; null for anything else. */
function errorAnswer(error: unknown): RestAnswer | null {
  if (error instanceof ValidationError) {
    const fieldErrors = error.fieldErrors.map((fieldError) => ({
      field: [REST_FIELD_NAMES[fieldError.path[0]!] ?? fieldError.path[0], ...fieldError.path.slice(1)].join('.'),
      message: fieldError.message,
    }));
    const message = fieldErrors.map((fieldError) => `${fieldError.field}: ${fieldError.message}`).join('; ');
    return json(error instanceof PayloadTooLargeError ? 413 : 400, { error: message, field_errors: fieldErrors });
  }
  if (error instanceof NotFoundError) return json(404, { error: error.message });
  return null;
}

function subscriptionBody(subscription: WebhookSubscription) {
  return {
    id: subscription.id,
    name: subscription.name,
    target_url: subscription.targetUrl,
    event_types: subscription.eventTypes,
    secret: subscription.secret,
    status: subscription.status,
    created_at: subscription.createdAt.toISOString(),
    updated_at: subscription.updatedAt.toISOString(),
  };
}

class BodyTooLarge extends Error {}

/** Reads at most `limit` bytes of the body; more is a BodyTooLarge. */
async function readBody(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > limit) throw new BodyTooLarge();
  if (!request.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

/** Largest body of POST /api/subscriptions: a URL, a name, a secret and up to 100 filters fit many times over. */
const SUBSCRIPTION_BODY_LIMIT = 64 * 1024;

async function createSubscription(services: Services, request: Request): Promise<RestAnswer> {
  let text: string;
  try {
    text = await readBody(request, SUBSCRIPTION_BODY_LIMIT);
  } catch (error) {
    if (error instanceof BodyTooLarge) return json(413, { error: `body is larger than ${SUBSCRIPTION_BODY_LIMIT} bytes` });
    throw error;
  }
  const body = parseJson(text);
  if (!body.ok) return json(400, { error: `body is not JSON: ${body.reason}` });
  const input = body.value;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return json(400, { error: 'body must be a JSON object like {"target_url": "https://…", "event_types": ["order.*"]}' });
  }
  const { target_url, event_types, secret, name } = input as Record<string, unknown>;
  const problems: { field: string; message: string }[] = [];
  if (typeof target_url !== 'string') problems.push({ field: 'target_url', message: 'is required and must be a string' });
  if (event_types != null && !(Array.isArray(event_types) && event_types.every((type) => typeof type === 'string'))) {
    problems.push({ field: 'event_types', message: 'must be a list of strings' });
  }
  if (secret != null && typeof secret !== 'string') problems.push({ field: 'secret', message: 'must be a string' });
  if (name != null && typeof name !== 'string') problems.push({ field: 'name', message: 'must be a string' });
  if (problems.length > 0) {
    return json(400, { error: problems.map((p) => `${p.field}: ${p.message}`).join('; '), field_errors: problems });
  }
  const subscription = await createWebhookSubscription(services, {
    targetUrl: target_url as string,
    eventTypes: event_types as string[] | null,
    secret: secret as string | null,
    name: name as string | null,
  });
  return json(201, subscriptionBody(subscription));
}

async function ingest(services: Services, request: Request, url: URL, subscriptionId: string): Promise<RestAnswer> {
  let text: string;
  try {
    text = await readBody(request, services.config.maxPayloadBytes);
  } catch (error) {
    if (error instanceof BodyTooLarge) {
      return json(413, { error: `payload is larger than ${services.config.maxPayloadBytes} bytes (MAX_PAYLOAD_BYTES)` });
    }
    throw error;
  }
  return ingestAnswer(services, subscriptionId, text, (name) => request.headers.get(name), url);
}

/** POST /api/ingest/<id>/ once its body is read (and known to be within MAX_PAYLOAD_BYTES). */
async function ingestAnswer(services: Services, subscriptionId: string, text: string, header: (name: string) => string | null, url: URL): Promise<RestAnswer> {
  const body = parseJson(text);
  if (!body.ok) return json(400, { error: `body is not JSON: ${body.reason}` });
  const event = await ingestEvent(services, {
    subscriptionId,
    payload: body.value,
    eventType: header('x-event-type') ?? url.searchParams.get('event_type'),
    idempotencyKey: header('idempotency-key'),
  });
  return json(202, { event_id: event.id, status: event.status });
}

async function eventStatus(services: Services, url: URL, eventId: string): Promise<RestAnswer> {
  const limitText = url.searchParams.get('limit') ?? '20';
  if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 100) {
    return json(400, { error: 'limit: must be a whole number from 1 to 100', field_errors: [{ field: 'limit', message: 'must be a whole number from 1 to 100' }] });
  }
  const event: (Event & { attempts: { attemptNumber: number; attemptedAt: Date; success: boolean; responseStatus: number | null; durationMs: number; error: string | null }[] }) | null =
    isUuid(eventId)
      ? await services.db.event.findUnique({
          where: { id: eventId },
          include: { attempts: { orderBy: { attemptNumber: 'desc' }, take: Number(limitText) } },
        })
      : null;
  if (!event) throw new NotFoundError('event', eventId);
  return json(200, {
    event_id: event.id,
    subscription_id: event.subscriptionId,
    event_type: event.eventType,
    status: event.status,
    attempt_count: event.attemptCount,
    next_attempt_at: event.nextAttemptAt?.toISOString() ?? null,
    delivered_at: event.deliveredAt?.toISOString() ?? null,
    attempts: event.attempts.map((attempt) => ({
      attempt_number: attempt.attemptNumber,
      attempted_at: attempt.attemptedAt.toISOString(),
      success: attempt.success,
      status_code: attempt.responseStatus,
      duration_ms: attempt.durationMs,
      error: attempt.error,
    })),
  });
}

const INGEST_PATH = /^\/api\/ingest\/([^/]+)\/?$/;

type Route = {
  method: string;
  pattern: RegExp;
  /** What the id in the path names, for the logs. */
  idField?: 'subscriptionId' | 'eventId';
  handle: (s: Services, r: Request, u: URL, id: string) => Promise<RestAnswer>;
};

const ROUTES: Route[] = [
  { method: 'POST', pattern: /^\/api\/subscriptions\/?$/, handle: (s, r) => createSubscription(s, r) },
  {
    method: 'GET',
    pattern: /^\/api\/subscriptions\/([^/]+)\/?$/,
    idField: 'subscriptionId',
    handle: async (s, _r, _u, id) => json(200, subscriptionBody(await getWebhookSubscription(s, id))),
  },
  { method: 'POST', pattern: INGEST_PATH, idField: 'subscriptionId', handle: (s, r, u, id) => ingest(s, r, u, id) },
  { method: 'GET', pattern: /^\/api\/events\/([^/]+)\/status\/?$/, idField: 'eventId', handle: (s, _r, u, id) => eventStatus(s, u, id) },
];

/** The subscription or event id a REST path names, as log fields: `{ subscriptionId }`, `{ eventId }` or `{}`. */
export function restLogFields(url: URL): Record<string, string> {
  for (const route of ROUTES) {
    const raw = route.idField && route.pattern.exec(url.pathname)?.[1];
    if (!raw) continue;
    try {
      return { [route.idField!]: decodeURIComponent(raw) };
    } catch {
      return {};
    }
  }
  return {};
}

/** Answers a REST request, or null when no route matches the path. */
export async function handleRest(services: Services, request: Request, url: URL): Promise<RestAnswer | null> {
  const routes = ROUTES.filter((route) => route.pattern.test(url.pathname));
  if (routes.length === 0) return null;
  const route = routes.find((candidate) => candidate.method === request.method);
  if (!route) return json(405, { error: `${request.method} is not allowed here; use ${routes.map((r) => r.method).join(' or ')}` });
  let id: string;
  try {
    id = decodeURIComponent(route.pattern.exec(url.pathname)?.[1] ?? '');
  } catch {
    return json(400, { error: 'the id in the path is not valid percent-encoding' });
  }
  try {
    return await route.handle(services, request, url, id);
  } catch (error) {
    return failedAnswer(services, error, request.method, url);
  }
}

/** POST /api/ingest/<id>/, answered beside Yoga's HTTP layer (server/direct.ts) when its body is within MAX_PAYLOAD_BYTES. */
export function restIngestRoute(services: Services): DirectRoute {
  return {
    claim(request) {
      if (!request.url?.startsWith('/api/ingest/')) return null;
      const url = new URL(request.url, 'http://direct');
      const raw = INGEST_PATH.exec(url.pathname)?.[1];
      if (!raw) return null;
      let subscriptionId: string;
      try {
        subscriptionId = decodeURIComponent(raw);
      } catch {
        return null;
      }
      const header = (name: string) => {
        const value = request.headers[name];
        return typeof value === 'string' ? value : null;
      };
      return {
        maxBodyBytes: services.config.maxPayloadBytes,
        answer: async (body) => {
          try {
            return directAnswer(await ingestAnswer(services, subscriptionId, body.toString('utf8'), header, url));
          } catch (error) {
            return directAnswer(failedAnswer(services, error, 'POST', url));
          }
        },
      };
    },
  };
}
