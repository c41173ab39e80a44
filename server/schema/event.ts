// Event: one payload for one subscription, with its delivery status.
import { NotFoundError, ValidationError, isUuid } from '../../core/errors.ts';
import { ingestEvent, ingestEvents, publishEvent, redeliverEvent } from '../../core/ingest.ts';
import type { Event } from '../../core/db.ts';
import { builder } from './builder.ts';
import { connectionOptions } from './errors.ts';

export const EventStatusEnum = builder.enumType('EventStatus', {
  values: ['PENDING', 'DELIVERING', 'RETRYING', 'DELIVERED', 'FAILED', 'FILTERED'] as const,
});

export const EventRef = builder.prismaObject('Event', {
  fields: (t) => ({
    id: t.exposeID('id'),
    // subscription: beside WebhookSubscription's type (webhook-subscription.ts).
    eventType: t.exposeString('eventType', { nullable: true }),
    payload: t.expose('payload', { type: 'JSON' }),
    idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
    status: t.expose('status', { type: EventStatusEnum }),
    attemptCount: t.exposeInt('attemptCount'),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
    attempts: t.relation('attempts', { description: 'By attempt number.', query: { orderBy: { attemptNumber: 'asc' } } }),
  }),
});

export const EventConnection = builder.connectionObject({ type: EventRef, name: 'EventConnection' }, { name: 'EventEdge' });

const PublishedEvents = builder.objectRef<{ events: Event[] }>('PublishedEvents').implement({
  fields: (t) => ({ events: t.field({ type: [EventRef], resolve: (result) => result.events }) }),
});

const IngestedEvents = builder.objectRef<{ events: Event[] }>('IngestedEvents').implement({
  fields: (t) => ({ events: t.field({ type: [EventRef], resolve: (result) => result.events }) }),
});

const IngestEventInput = builder.inputType('IngestEventInput', {
  fields: (t) => ({
    subscriptionId: t.id({ required: true }),
    eventType: t.string(),
    payload: t.field({ type: 'JSON', required: true }),
    idempotencyKey: t.string(),
  }),
});

const PublishEventInput = builder.inputType('PublishEventInput', {
  fields: (t) => ({
    eventType: t.string({ required: true }),
    payload: t.field({ type: 'JSON', required: true }),
    idempotencyKey: t.string(),
  }),
});

builder.queryFields((t) => ({
  event: t.prismaField({
    type: 'Event',
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => (isUuid(args.id) ? ctx.services.db.event.findUnique({ ...query, where: { id: args.id } }) : null),
  }),
  events: t.prismaConnection({
    type: 'Event',
    ...connectionOptions,
    description: 'Newest first.',
    args: {
      subscriptionId: t.arg.id(),
      status: t.arg({ type: EventStatusEnum }),
    },
    resolve: (query, _root, args, ctx) => {
      if (args.subscriptionId != null && !isUuid(args.subscriptionId)) return [];
      return ctx.services.db.event.findMany({
        ...query,
        where: { subscriptionId: args.subscriptionId ?? undefined, status: args.status ?? undefined },
        // With a subscription: ordered by it first, so its own index is the one used.
        orderBy: [...(args.subscriptionId ? [{ subscriptionId: 'asc' as const }] : []), { createdAt: 'desc' }, { id: 'desc' }],
      });
    },
  }, EventConnection),
}));

builder.mutationFields((t) => ({
  ingestEvent: t.field({
    type: EventRef,
    args: { input: t.arg({ type: IngestEventInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError], union: { name: 'IngestEventResult' } },
    resolve: (_root, args, ctx) => ingestEvent(ctx.services, args.input),
  }),
  ingestEvents: t.field({
    type: IngestedEvents,
    description: 'Up to 1,000 events in one call and one transaction; events in the order of the inputs.',
    args: { inputs: t.arg({ type: [IngestEventInput], required: true }) },
    errors: { types: [ValidationError, NotFoundError], union: { name: 'IngestEventsResult' } },
    resolve: async (_root, args, ctx) => ({ events: await ingestEvents(ctx.services, args.inputs) }),
  }),
  publishEvent: t.field({
    type: PublishedEvents,
    args: { input: t.arg({ type: PublishEventInput, required: true }) },
    errors: { types: [ValidationError], union: { name: 'PublishEventResult' } },
    resolve: async (_root, args, ctx) => ({ events: await publishEvent(ctx.services, args.input) }),
  }),
  redeliverEvent: t.field({
    type: EventRef,
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError, ValidationError], union: { name: 'RedeliverEventResult' } },
    resolve: (_root, args, ctx) => redeliverEvent(ctx.services, args.id),
  }),
}));

builder.subscriptionFields((t) => ({
  eventUpdated: t.field({
    type: EventRef,
    description: 'Every status change of one event.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => ctx.subscriber.watch('event-updated', { filter: (event) => event.id === args.id }),
    resolve: (event) => event as unknown as Event,
  }),
  eventsUpdated: t.field({
    type: EventRef,
    description: "Every status change, optionally of one subscription's events.",
    args: { subscriptionId: t.arg.id() },
    subscribe: (_root, args, ctx) =>
      ctx.subscriber.watch('event-updated', { subscriptionId: args.subscriptionId }),
    resolve: (event) => event as unknown as Event,
  }),
}));
