// Webhook subscriptions: create, update, delete, and the cached lookup ingest uses.
import { eventTypeFilterProblem } from './event-types.ts';
import { FieldProblems, NotFoundError, isUuid } from './errors.ts';
import { isRecordNotFound, isWriteConflict, WebhookSubscriptionStatus, type WebhookSubscription } from './db.ts';
import type { Services } from './services.ts';
import { generateSecret, secretProblem } from './signing.ts';
import { requeueHeldEvents } from './enqueue.ts';
import { lowerSweepMarkToHeldEvents } from './sweep-mark.ts';
import { checkTargetUrl } from './targets.ts';
import { textProblem } from './payload.ts';

export interface CreateSubscriptionInput {
  targetUrl: string;
  eventTypes?: string[] | null;
  secret?: string | null;
  name?: string | null;
}

export interface UpdateSubscriptionInput {
  targetUrl?: string | null;
  eventTypes?: string[] | null;
  name?: string | null;
  status?: string | null;
}

const MAX_URL_LENGTH = 2048;
const MAX_NAME_LENGTH = 200;
const MAX_EVENT_TYPE_FILTERS = 100;

export function targetUrlProblem(targetUrl: string): string | null {
  if (targetUrl.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  if (/[\u0000-\u001F\u007F]/.test(targetUrl)) return 'must not contain control characters';
  let url: URL;
  try {
    url = new URL(targetUrl);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an absolute http or https URL';
  if (url.hostname === '') return 'must name a host';
  return null;
}

/**
 * The targetUrl checks: the synchronous ones, then (only when those pass) the address check,
 * which may resolve the host. Its problem joins the others, so all are reported together.
 */
async function checkTargetUrlField(services: Services, problems: FieldProblems, targetUrl: string): Promise<void> {
  const problem = targetUrlProblem(targetUrl);
  problems.add(['targetUrl'], problem);
  if (problem === null) problems.add(['targetUrl'], await checkTargetUrl(targetUrl, services.config));
}

function checkEventTypes(problems: FieldProblems, eventTypes: string[]): string[] {
  if (eventTypes.length > MAX_EVENT_TYPE_FILTERS) {
    problems.add(['eventTypes'], `must have at most ${MAX_EVENT_TYPE_FILTERS} entries`);
    return eventTypes;
  }
  eventTypes.forEach((filter, index) => problems.add(['eventTypes', String(index)], eventTypeFilterProblem(filter)));
  return [...new Set(eventTypes)];
}

function checkName(problems: FieldProblems, name: string): string {
  const trimmed = name.trim();
  if (trimmed.length > MAX_NAME_LENGTH) problems.add(['name'], `must be at most ${MAX_NAME_LENGTH} characters`);
  else problems.add(['name'], textProblem(trimmed));
  return trimmed;
}

export async function createWebhookSubscription(services: Services, input: CreateSubscriptionInput): Promise<WebhookSubscription> {
  const problems = new FieldProblems();
  await checkTargetUrlField(services, problems, input.targetUrl);
  const eventTypes = checkEventTypes(problems, input.eventTypes ?? []);
  if (input.secret != null) problems.add(['secret'], secretProblem(input.secret));
  const name = checkName(problems, input.name ?? '');
  problems.throwIfAny();
  return services.db.webhookSubscription.create({
    data: {
      targetUrl: input.targetUrl,
      eventTypes,
      secret: input.secret ?? generateSecret(),
      name: name || new URL(input.targetUrl).host,
    },
  });
}

export async function getWebhookSubscription(services: Services, id: string): Promise<WebhookSubscription> {
  const subscription = isUuid(id) ? await services.db.webhookSubscription.findUnique({ where: { id } }) : null;
  if (!subscription) throw new NotFoundError('webhook subscription', id);
  return subscription;
}

export async function updateWebhookSubscription(
  services: Services,
  id: string,
  input: UpdateSubscriptionInput,
): Promise<WebhookSubscription> {
  const problems = new FieldProblems();
  if (input.targetUrl != null) await checkTargetUrlField(services, problems, input.targetUrl);
  const eventTypes = input.eventTypes != null ? checkEventTypes(problems, input.eventTypes) : undefined;
  const name = input.name != null ? checkName(problems, input.name) : undefined;
  const statuses = Object.values(WebhookSubscriptionStatus) as string[];
  if (input.status != null && !statuses.includes(input.status)) {
    problems.add(['status'], `must be one of ${statuses.join(', ')}`);
  }
  problems.throwIfAny();

  const before = await getWebhookSubscription(services, id);
  const resuming = input.status === 'ACTIVE' && before.status !== 'ACTIVE';
  let updated: WebhookSubscription;
  try {
    const update = services.db.webhookSubscription.update({
      where: { id },
      data: {
        targetUrl: input.targetUrl ?? undefined,
        eventTypes,
        name,
        status: (input.status as WebhookSubscriptionStatus | null) ?? undefined,
      },
    });
    // Its held events become open again: the sweeper's mark goes down to them with the change.
    [updated] = resuming ? await services.db.$transaction([update, services.db.$executeRaw(lowerSweepMarkToHeldEvents(id))]) : [await update];
  } catch (error) {
    if (isRecordNotFound(error)) throw new NotFoundError('webhook subscription', id);
    throw error;
  }
  services.routes.forget(id);
  await services.publisher.publish('subscription-updated', updated);
  if (resuming) await requeueHeldEvents(services, id);
  return updated;
}

/** Deleting a subscription being delivered to can meet a deadlock; tries before giving up. */
const DELETE_TRIES = 3;

export async function deleteWebhookSubscription(services: Services, id: string): Promise<{ id: string }> {
  if (!isUuid(id)) throw new NotFoundError('webhook subscription', id);
  for (let tries = 1; ; tries++) {
    try {
      // Its events and attempts go with it (ON DELETE CASCADE); queued jobs find nothing and end.
      await services.db.webhookSubscription.delete({ where: { id } });
      break;
    } catch (error) {
      if (isRecordNotFound(error)) throw new NotFoundError('webhook subscription', id);
      // The cascade locks the subscription's rows in another order than a worker recording its
      // attempts at that moment: PostgreSQL may end one of the two as a deadlock. Again is right.
      if (isWriteConflict(error) && tries < DELETE_TRIES) continue;
      throw error;
    }
  }
  services.routes.forget(id);
  return { id };
}

/** What ingest needs of a subscription, and the version of it (kept by a trigger) the INSERT checks. */
export interface SubscriptionRoute {
  id: string;
  status: WebhookSubscriptionStatus;
  eventTypes: string[];
  routeVersion: number;
}

/** Routes kept per process; the least recently used go first beyond this. */
const MAX_CACHED_ROUTES = 10_000;

/**
 * The cached subscription lookup of ingest, in the server's memory. A copy is never trusted
 * alone: the INSERT that files events checks each row's route version against the
 * subscription's row and inserts nothing if one is older (core/ingest.ts), and the caller then
 * `refresh`es. So a change made through any server is seen by the next ingest everywhere,
 * with no invalidation messages to lose and no Redis round trip per request.
 */
export class RouteCache {
  private readonly routes = new Map<string, SubscriptionRoute>();

  constructor(
    private readonly read: (ids: string[]) => Promise<SubscriptionRoute[]>,
    private readonly maxEntries = MAX_CACHED_ROUTES,
  ) {}

  /** The routes of `ids` (unknown or malformed ids are absent): cached, or read for the misses. */
  async get(ids: Iterable<string>): Promise<Map<string, SubscriptionRoute>> {
    const found = new Map<string, SubscriptionRoute>();
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const route = this.routes.get(id);
      if (!route) {
        if (isUuid(id)) missing.push(id);
        continue;
      }
      // Most recently used last: eviction takes from the front.
      this.routes.delete(id);
      this.routes.set(id, route);
      found.set(id, route);
    }
    if (missing.length > 0) for (const [id, route] of await this.refresh(missing)) found.set(id, route);
    return found;
  }

  /** Reads `ids` from PostgreSQL, caching what it finds and forgetting what is gone. */
  async refresh(ids: Iterable<string>): Promise<Map<string, SubscriptionRoute>> {
    const wanted = [...new Set(ids)].filter(isUuid);
    const found = new Map((wanted.length ? await this.read(wanted) : []).map((route) => [route.id, route]));
    for (const id of wanted) {
      const route = found.get(id);
      this.routes.delete(id);
      if (route) this.routes.set(id, route);
    }
    while (this.routes.size > this.maxEntries) this.routes.delete(this.routes.keys().next().value!);
    return found;
  }

  /** Drops a route (after a change this process made: the next ingest reads it afresh, not after a failed INSERT). */
  forget(id: string): void {
    this.routes.delete(id);
  }

  get size(): number {
    return this.routes.size;
  }
}

/** The cache's source: one query for any number of subscriptions. */
export function readSubscriptionRoutes(db: Services['db']): (ids: string[]) => Promise<SubscriptionRoute[]> {
  return (ids) => db.webhookSubscription.findMany({ where: { id: { in: ids } }, select: { id: true, status: true, eventTypes: true, routeVersion: true } });
}
