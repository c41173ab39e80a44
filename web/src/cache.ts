// Graphcache: normalised by id, so an Event or attempt pushed by a subscription changes every
// list that shows it. What normalisation cannot know (a new row in a list, a new "last
// attempt") is handled by the updaters here.
import { cacheExchange, type Cache, type CacheExchangeOpts, type UpdatesConfig } from '@urql/exchange-graphcache';

/** Types without an id: embedded in their parent rather than normalised. */
const EMBEDDED_TYPES = [
  'WebhookSubscriptionConnection',
  'WebhookSubscriptionEdge',
  'EventConnection',
  'EventEdge',
  'DeliveryAttemptConnection',
  'DeliveryAttemptEdge',
  'PageInfo',
  'DeliveryStats',
  'DeliveryTimelineBucket',
  'HttpHeader',
  'EventStatusCount',
  'FieldError',
  'ValidationError',
  'NotFoundError',
  'PublishedEvents',
] as const;

export const cacheKeys: NonNullable<CacheExchangeOpts['keys']> = Object.fromEntries(EMBEDDED_TYPES.map((name) => [name, () => null]));

interface EventLike {
  __typename?: string;
  id: string;
  status: string;
  createdAt?: string;
  subscription?: { id: string } | null;
}

interface AttemptLike {
  __typename?: string;
  id: string;
  attemptedAt: string;
  event?: { id: string } | null;
  subscription?: { id: string } | null;
}

function asString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/**
 * An event was created or changed status: every cached first page of its subscription's
 * `events` that it now belongs to but does not show is invalidated, so urql refetches it.
 * Pages after the first follow, since each is asked for after the page before it.
 */
export function placeEvent(cache: Cache, event: EventLike): void {
  const subscriptionId = event.subscription?.id;
  if (!subscriptionId) return;
  const subscriptionKey = cache.keyOfEntity({ __typename: 'WebhookSubscription', id: subscriptionId });
  const eventKey = cache.keyOfEntity({ __typename: 'Event', id: event.id });
  if (!subscriptionKey || !eventKey) return;
  const createdAt = event.createdAt ?? asString(cache.resolve(eventKey, 'createdAt'));
  for (const field of cache.inspectFields(subscriptionKey)) {
    if (field.fieldName !== 'events') continue;
    const args = field.arguments ?? {};
    if (args.after != null || args.before != null) continue;
    if (args.status != null && args.status !== event.status) continue;
    const connection = cache.resolve(subscriptionKey, field.fieldKey);
    if (typeof connection !== 'string') continue;
    const edges = cache.resolve(connection, 'edges');
    const nodes = Array.isArray(edges) ? edges.map((edge) => (typeof edge === 'string' ? cache.resolve(edge, 'node') : null)) : [];
    if (nodes.includes(eventKey)) continue;
    const pageInfo = cache.resolve(connection, 'pageInfo');
    const hasNextPage = typeof pageInfo === 'string' ? cache.resolve(pageInfo, 'hasNextPage') === true : false;
    const oldest = nodes.at(-1);
    const oldestCreatedAt = typeof oldest === 'string' ? asString(cache.resolve(oldest, 'createdAt')) : null;
    // An old event changing status (a redelivery) belongs on a later page, not this one.
    const belongsHere = !hasNextPage || oldestCreatedAt == null || createdAt == null || createdAt >= oldestCreatedAt;
    if (belongsHere) cache.invalidate(subscriptionKey, 'events', args);
  }
}

/** A new attempt: it becomes its subscription's last attempt, and its event's attempt list is stale. */
export function recordAttempt(cache: Cache, attempt: AttemptLike): void {
  const attemptKey = cache.keyOfEntity({ __typename: 'DeliveryAttempt', id: attempt.id });
  if (!attemptKey) return;
  if (attempt.subscription?.id) {
    const subscription = { __typename: 'WebhookSubscription', id: attempt.subscription.id };
    const current = cache.resolve(subscription, 'lastAttempt');
    const currentAt = typeof current === 'string' ? asString(cache.resolve(current, 'attemptedAt')) : null;
    if (current !== undefined && current !== attemptKey && (currentAt == null || attempt.attemptedAt >= currentAt)) {
      cache.link(subscription, 'lastAttempt', { __typename: 'DeliveryAttempt', id: attempt.id });
    }
  }
  if (attempt.event?.id) {
    const event = { __typename: 'Event', id: attempt.event.id };
    const attempts = cache.resolve(event, 'attempts');
    if (Array.isArray(attempts) && !(attempts as unknown[]).includes(attemptKey)) cache.invalidate(event, 'attempts');
  }
}

function resultOf(result: Record<string, unknown>, field: string): Record<string, unknown> | null {
  const value = result[field];
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function invalidateAll(cache: Cache, entity: string, fieldName: string): void {
  for (const field of cache.inspectFields(entity)) {
    if (field.fieldName === fieldName) cache.invalidate(entity, field.fieldName, field.arguments ?? undefined);
  }
}

export const cacheUpdates: UpdatesConfig = {
  Mutation: {
    createWebhookSubscription(result, _args, cache) {
      if (resultOf(result, 'createWebhookSubscription')?.__typename === 'WebhookSubscription') {
        invalidateAll(cache, 'Query', 'webhookSubscriptions');
      }
    },
    deleteWebhookSubscription(result, args, cache) {
      const deleted = resultOf(result, 'deleteWebhookSubscription');
      if (deleted?.__typename === 'DeletedWebhookSubscription' && typeof args.id === 'string') {
        cache.invalidate({ __typename: 'WebhookSubscription', id: args.id });
        invalidateAll(cache, 'Query', 'webhookSubscriptions');
      }
    },
    ingestEvent(result, _args, cache) {
      const event = resultOf(result, 'ingestEvent');
      if (event?.__typename === 'Event') placeEvent(cache, event as unknown as EventLike);
    },
  },
  Subscription: {
    eventsUpdated(result, _args, cache) {
      const event = resultOf(result, 'eventsUpdated');
      if (event) placeEvent(cache, event as unknown as EventLike);
    },
    deliveryAttemptRecorded(result, _args, cache) {
      const attempt = resultOf(result, 'deliveryAttemptRecorded');
      if (attempt) recordAttempt(cache, attempt as unknown as AttemptLike);
    },
  },
};

export function createCacheExchange(schema: CacheExchangeOpts['schema']) {
  return cacheExchange({ schema, keys: cacheKeys, updates: cacheUpdates });
}
