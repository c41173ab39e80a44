// Ingest: an event is committed to PostgreSQL, then its first delivery is enqueued, then the
// caller is answered. If Redis cannot take the job the event still stands, PENDING, and the
// worker's sweeper enqueues it later: an accepted event is never lost.
import { eventTypeMatches, eventTypeProblem } from './event-types.ts';
import { payloadProblem, textProblem } from './payload.ts';
import { randomUUID } from 'node:crypto';
import { FieldProblems, NotFoundError, ValidationError, isUuid, type FieldError } from './errors.ts';
import { EVENT_COLUMNS, columnList, isDatabaseUnavailable, type Event, type EventStatus, type Prisma } from './db.ts';
import { Batcher } from './batcher.ts';
import { query, type Statement } from './sql.ts';
import { enqueueDeliveries } from './enqueue.ts';
import { lowerSweepMarkToEvent } from './sweep-mark.ts';
import type { Services } from './services.ts';
import type { SubscriptionRoute } from './subscriptions.ts';

export interface IngestInput {
  subscriptionId: string;
  eventType?: string | null;
  payload?: unknown;
  idempotencyKey?: string | null;
}

export interface PublishInput {
  eventType: string;
  payload?: unknown;
  idempotencyKey?: string | null;
}

const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

/** A payload that passed its checks, with its JSON text (made once: measured here, stored by ingest). */
interface CheckedPayload {
  payload: Prisma.InputJsonValue;
  json: string;
}

function checkEventInput(
  services: Services,
  input: { eventType?: string | null; payload?: unknown; idempotencyKey?: string | null },
  eventTypeRequired: boolean,
): CheckedPayload {
  const problems = new FieldProblems();
  if (input.eventType != null) problems.add(['eventType'], eventTypeProblem(input.eventType));
  else if (eventTypeRequired) problems.add(['eventType'], 'is required');
  if (input.idempotencyKey != null) {
    if (input.idempotencyKey === '' || input.idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      problems.add(['idempotencyKey'], `must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
    } else {
      problems.add(['idempotencyKey'], textProblem(input.idempotencyKey));
    }
  }
  const unstorable = input.payload == null ? null : payloadProblem(input.payload);
  let json = '';
  if (input.payload === null || input.payload === undefined) {
    problems.add(['payload'], 'is required (any JSON value but null)');
  } else if (unstorable) {
    problems.add(['payload'], unstorable);
  } else {
    json = JSON.stringify(input.payload);
    const bytes = Buffer.byteLength(json);
    if (bytes > services.config.maxPayloadBytes) {
      problems.addTooLarge(['payload'], `is ${bytes} bytes; the limit is ${services.config.maxPayloadBytes} (MAX_PAYLOAD_BYTES)`);
    }
  }
  problems.throwIfAny();
  return { payload: input.payload as Prisma.InputJsonValue, json };
}

/** The status a new event starts in, given its subscription. */
function initialStatus(route: SubscriptionRoute, eventType: string | null): EventStatus {
  if (!eventTypeMatches(route.eventTypes, eventType)) return 'FILTERED';
  if (route.status === 'DISABLED') return 'FAILED';
  return 'PENDING';
}

/** After the row is committed: tell watchers, and start delivery if it is due now. */
async function announce(services: Services, events: Event[], activeSubscriptions: Set<string>): Promise<void> {
  await Promise.all(events.map((event) => services.publisher.publish('event-updated', event)));
  const due = events.filter((event) => event.status === 'PENDING' && activeSubscriptions.has(event.subscriptionId));
  await enqueueDeliveries(services, due.map((event) => ({ eventId: event.id, attempt: event.attemptCount + 1 })));
}

/**
 * A new event as the caller gave it. Its id's random bits are chosen here, so a batch's answers
 * can be matched to its inputs; PostgreSQL puts its transaction's start time in front
 * (hookd_event_id). Its status follows from its subscription's route at the INSERT.
 */
interface EventDraft {
  idBits: string;
  subscriptionId: string;
  eventType: string | null;
  /** The payload's JSON text, as checked. */
  payloadJson: string;
  idempotencyKey: string | null;
}

interface Inserted {
  event: Event;
  /** False when an earlier event with the same idempotency key is the answer. */
  created: boolean;
  /** The route the event was filed under. */
  route: SubscriptionRoute;
}

function eventDraft(input: IngestInput, payload: CheckedPayload): EventDraft {
  return {
    idBits: randomUUID(),
    subscriptionId: input.subscriptionId,
    eventType: input.eventType ?? null,
    payloadJson: payload.json,
    idempotencyKey: input.idempotencyKey ?? null,
  };
}

/**
 * Columns as arrays, one element per event, cast by PostgreSQL. A row whose idempotency key
 * its subscription already holds is skipped (ON CONFLICT) and answered with the earlier event.
 * Each row carries the route version its status was decided by: if any is not its
 * subscription's version now (changed, or deleted), nothing is inserted, and the caller reads
 * the routes again. (Prisma's createManyAndReturn inlines every row into a plan it compiles
 * at each call, which cost more CPU than the INSERT itself.)
 */
export const INSERT_EVENTS: Statement = {
  name: 'hookd_insert_events',
  text: `
    WITH v AS (
      SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]::jsonb[], $5::text[], $6::text[], $7::text[]::timestamptz[], $8::int[])
        AS v(bits, "subscriptionId", "eventType", payload, "idempotencyKey", status, "nextAttemptAt", "routeVersion")
    )
    INSERT INTO "Event" (id, "subscriptionId", "eventType", payload, "idempotencyKey", status, "nextAttemptAt", "createdAt", "updatedAt")
    SELECT hookd_event_id(bits), "subscriptionId", "eventType", payload, "idempotencyKey", status::"EventStatus", "nextAttemptAt", now(), now()
    FROM v
    WHERE NOT EXISTS (
      SELECT 1 FROM v AS filed
      LEFT JOIN "WebhookSubscription" s ON s.id = filed."subscriptionId" AND s."routeVersion" = filed."routeVersion"
      WHERE s.id IS NULL)
    ON CONFLICT DO NOTHING
    RETURNING ${columnList(EVENT_COLUMNS)}`,
};

/** What hookd_event_id keeps of its bits: the text of a uuid after its version digit. */
function randomBitsOf(id: string): string {
  return id.slice(15);
}

/** INSERTs tried with routes read afresh, when a cached route turned out old, before giving up. */
const ROUTE_TRIES = 3;

/**
 * Inserts events in one statement (one commit), each with the status its subscription's route
 * gives it. A row whose idempotency key its subscription has seen before (or that an earlier
 * row of the batch holds) is answered with that event. An unknown subscription fails the whole
 * batch with NotFoundError, before anything is written.
 */
async function insertEvents(services: Services, drafts: EventDraft[]): Promise<Inserted[]> {
  const subscriptionIds = drafts.map((draft) => draft.subscriptionId);
  let routes = await services.routes.get(subscriptionIds);
  let created: Event[] = [];
  for (let tries = 1; ; tries++) {
    const unknown = drafts.find((draft) => !routes.has(draft.subscriptionId));
    if (unknown) throw new NotFoundError('webhook subscription', unknown.subscriptionId);
    const now = new Date().toISOString();
    const statuses = drafts.map((draft) => initialStatus(routes.get(draft.subscriptionId)!, draft.eventType));
    created = await query<Event>(services.sql, INSERT_EVENTS, [
      drafts.map((draft) => draft.idBits),
      subscriptionIds,
      drafts.map((draft) => draft.eventType),
      drafts.map((draft) => draft.payloadJson),
      drafts.map((draft) => draft.idempotencyKey),
      statuses,
      statuses.map((status) => (status === 'PENDING' ? now : null)),
      drafts.map((draft) => routes.get(draft.subscriptionId)!.routeVersion),
    ]);
    if (created.length > 0) break;
    // Nothing inserted: every row's key was taken, or a route was old. Read them again.
    const used = routes;
    routes = await services.routes.refresh(subscriptionIds);
    const unchanged = [...used.values()].every((route) => routes.get(route.id)?.routeVersion === route.routeVersion);
    if (unchanged) break;
    if (tries === ROUTE_TRIES) throw new Error(`the subscriptions of these events changed ${ROUTE_TRIES} times while they were filed; try again`);
  }
  const createdByBits = new Map(created.map((event) => [randomBitsOf(event.id), event]));
  const keyOf = (subscriptionId: string, key: string | null) => `${subscriptionId}\n${key}`;
  const earlier = new Map<string, Event>();
  const skipped = drafts.filter((draft) => !createdByBits.has(randomBitsOf(draft.idBits)));
  if (skipped.length > 0) {
    const found = await services.db.event.findMany({
      where: { OR: skipped.map((draft) => ({ subscriptionId: draft.subscriptionId, idempotencyKey: draft.idempotencyKey })) },
    });
    for (const event of found) earlier.set(keyOf(event.subscriptionId, event.idempotencyKey), event);
  }
  return drafts.map((draft) => {
    const route = routes.get(draft.subscriptionId)!;
    const event = createdByBits.get(randomBitsOf(draft.idBits));
    if (event) return { event, created: true, route };
    const first = earlier.get(keyOf(draft.subscriptionId, draft.idempotencyKey));
    if (!first) throw new Error(`an event of subscription ${draft.subscriptionId} was neither inserted nor found by its idempotency key`);
    return { event: first, created: false, route };
  });
}

/** Concurrent single ingests, group-committed per server process. */
const ingestBatches = new WeakMap<Services, Batcher<EventDraft, Inserted>>();

function ingestBatcher(services: Services): Batcher<EventDraft, Inserted> {
  let batcher = ingestBatches.get(services);
  if (!batcher) {
    batcher = new Batcher({
      run: (rows) => insertEvents(services, rows),
      maxBatch: 200,
      maxInFlight: 4,
      // One bad row must not fail the others' requests; PostgreSQL away fails them all.
      retryAlone: (error) => !isDatabaseUnavailable(error),
    });
    ingestBatches.set(services, batcher);
  }
  return batcher;
}

/** Announcements still talking to Redis: the answer to an ingest does not wait for them. */
const announcing = new Set<Promise<void>>();

/** Resolves once every announcement begun so far has finished (for a clean shutdown). */
export async function settleAnnouncements(): Promise<void> {
  await Promise.all(announcing);
}

/**
 * Counts and announces the events a write created (not the earlier ones it answered with).
 * The events are committed, so the answer need not wait for Redis: announce() never fails
 * (what Redis does not take, the sweeper enqueues), and a Redis that is slow or away costs
 * producers nothing.
 */
function afterInsert(services: Services, inserted: Inserted[]): void {
  const created = inserted.filter((result) => result.created);
  for (const { event } of created) services.metrics.eventsIngested.inc({ status: event.status });
  const active = new Set(created.filter(({ route }) => route.status === 'ACTIVE').map(({ route }) => route.id));
  const announcement = announce(
    services,
    created.map(({ event }) => event),
    active,
  ).finally(() => announcing.delete(announcement));
  announcing.add(announcement);
}

export async function ingestEvent(services: Services, input: IngestInput): Promise<Event> {
  const payload = checkEventInput(services, input, false);
  // An unknown subscription is answered here, not by failing the batch it would join.
  if (!(await services.routes.get([input.subscriptionId])).has(input.subscriptionId)) throw new NotFoundError('webhook subscription', input.subscriptionId);
  const inserted = await ingestBatcher(services).add(eventDraft(input, payload));
  afterInsert(services, [inserted]);
  return inserted.event;
}

export const MAX_INGEST_BATCH = 1_000;

/**
 * Many events in one call: one INSERT (all or nothing), one enqueue of every job. The answer
 * lists the events in the order of the inputs; an idempotency key seen before (or twice in
 * the batch) answers with the first event for it.
 */
export async function ingestEvents(services: Services, inputs: IngestInput[]): Promise<Event[]> {
  if (inputs.length === 0 || inputs.length > MAX_INGEST_BATCH) {
    throw new ValidationError([{ path: ['inputs'], message: `must hold 1 to ${MAX_INGEST_BATCH} events; got ${inputs.length}` }]);
  }
  const fieldErrors: FieldError[] = [];
  const payloads = inputs.map((input, index) => {
    try {
      return checkEventInput(services, input, false);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      fieldErrors.push(...error.fieldErrors.map((fieldError) => ({ path: ['inputs', String(index), ...fieldError.path], message: fieldError.message })));
      return null;
    }
  });
  if (fieldErrors.length > 0) throw new ValidationError(fieldErrors);

  const inserted = await insertEvents(services, inputs.map((input, index) => eventDraft(input, payloads[index]!)));
  afterInsert(services, inserted);
  return inserted.map((result) => result.event);
}

/**
 * Fan-out: one event per ACTIVE or PAUSED subscription whose filters match. With an
 * idempotency key seen before (same key and event type), the first publish's events.
 */
export async function publishEvent(services: Services, input: PublishInput): Promise<Event[]> {
  const { payload } = checkEventInput(services, input, true);
  const idempotencyKey = input.idempotencyKey ?? null;
  const byFirstPublish = { idempotencyKey: idempotencyKey ?? undefined, eventType: input.eventType };
  if (idempotencyKey !== null) {
    const earlier = await services.db.event.findMany({ where: byFirstPublish, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    if (earlier.length > 0) return earlier;
  }
  const subscriptions = await services.db.webhookSubscription.findMany({
    where: { status: { in: ['ACTIVE', 'PAUSED'] } },
    select: { id: true, status: true, eventTypes: true },
  });
  const targets = subscriptions.filter((subscription) => eventTypeMatches(subscription.eventTypes, input.eventType));
  if (targets.length === 0) return [];
  const now = new Date();
  const created = await services.db.event.createManyAndReturn({
    data: targets.map((subscription) => ({
      subscriptionId: subscription.id,
      eventType: input.eventType,
      payload,
      idempotencyKey,
      status: 'PENDING' as const,
      nextAttemptAt: now,
    })),
    // A concurrent publish with the same key may have won for some subscriptions.
    skipDuplicates: idempotencyKey !== null,
  });
  for (const event of created) services.metrics.eventsIngested.inc({ status: event.status });
  await announce(services, created, new Set(targets.filter((s) => s.status === 'ACTIVE').map((s) => s.id)));
  if (idempotencyKey !== null) {
    return services.db.event.findMany({ where: byFirstPublish, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }
  return created;
}

/** Sends a DELIVERED or FAILED event again as a new series; attempt numbers continue. */
export async function redeliverEvent(services: Services, id: string): Promise<Event> {
  const event = isUuid(id) ? await services.db.event.findUnique({ where: { id }, include: { subscription: { select: { status: true } } } }) : null;
  if (!event) throw new NotFoundError('event', id);
  if (event.status !== 'DELIVERED' && event.status !== 'FAILED') {
    throw new ValidationError([{ path: ['id'], message: `the event is ${event.status}; only DELIVERED or FAILED events can be redelivered` }]);
  }
  // With the sweeper's mark lowered to it: if Redis loses the job, the sweeper still finds it.
  const [{ count }] = await services.db.$transaction([
    services.db.event.updateMany({
      where: { id, status: event.status, attemptCount: event.attemptCount },
      data: { status: 'PENDING', seriesOffset: event.attemptCount, nextAttemptAt: new Date(), deliveredAt: null },
    }),
    services.db.$executeRaw(lowerSweepMarkToEvent(id)),
  ]);
  const updated = await services.db.event.findUniqueOrThrow({ where: { id } });
  // count 0: a concurrent redeliver won; its series is the one that runs.
  if (count === 1) {
    await announce(services, [updated], new Set(event.subscription.status === 'ACTIVE' ? [event.subscriptionId] : []));
  }
  return updated;
}
